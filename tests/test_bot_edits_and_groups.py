"""Edited questions are answered again (the earlier answer edited, or a new one saying so), an
edited command is not run twice, and staff commands used in a group are never announced there."""

from __future__ import annotations

from pathlib import Path

from bots import RunningBot, make_services, running_bot
from configs import RESIDENT, STAFF, make_settings
from fake_bot_api import FakeBotApi

from bot.core import replies, subscriptions
from bot.core.staff_texts import PRIVATE_ONLY, REFUSAL

GROUP = -100800


async def test_an_edited_question_edits_its_answer(bot: RunningBot) -> None:
    question = bot.api.message_update(570, "垃圾分类")["message"]["message_id"]
    first = (await bot.api.wait_for_messages_async(570, 1))[0]
    answer_id = bot.last_message_id(570)
    assert "垃圾分类" in first["text"]

    bot.api.edited_message_update(570, question, "积水点改造")
    edit = (await bot.api.wait_for_calls_async("editMessageText", 1, timeout=30))[0]
    assert edit.ok and edit.params["message_id"] == answer_id
    shown = bot.api.message(570, answer_id)
    assert shown is not None
    assert shown["text"].startswith(replies.EDITED_ANSWER) and "王为人检查天山积水点改造" in shown["text"]
    assert shown.get("reply_markup")  # the result buttons came with it
    # Both questions are in the log; the edit sent no second message (the next one is handled after it).
    assert await bot.ask(570, "/help")
    assert len(bot.api.sent_messages(570)) == 2
    asked = [r["question"] for r in bot.services.db.query("SELECT question FROM query_log ORDER BY at")]
    assert asked == ["垃圾分类", "积水点改造"]


async def test_an_edit_of_a_question_answered_before_a_restart_gets_a_new_answer(bot: RunningBot) -> None:
    # Message 900 was asked (and answered) before this process started: no answer of it is on record.
    bot.api.edited_message_update(571, 900, "积水点改造")
    again = (await bot.api.wait_for_messages_async(571, 1))[0]
    assert again["text"].startswith(replies.EDITED_ANSWER) and "积水点改造" in again["text"]
    assert again["reply_parameters"]["message_id"] == 900
    assert not bot.api.calls("editMessageText")


async def test_an_edited_ask_in_a_group_edits_its_answer(bot: RunningBot) -> None:
    asked = bot.api.message_update(GROUP, "/ask 垃圾分类", user_id=572, chat_type="supergroup")
    await bot.api.wait_for_messages_async(GROUP, 1)
    answer_id = bot.last_message_id(GROUP)
    bot.api.edited_message_update(GROUP, asked["message"]["message_id"], "/ask 积水点改造", user_id=572)
    await bot.api.wait_for_calls_async("editMessageText", 1, timeout=30)
    shown = bot.api.message(GROUP, answer_id)
    assert shown is not None and "积水点改造" in shown["text"]


async def test_an_edited_command_is_not_run_again(bot: RunningBot) -> None:
    command = bot.api.message_update(573, "/help")["message"]["message_id"]
    await bot.api.wait_for_messages_async(573, 1)
    bot.api.edited_message_update(573, command, "/subscribe 天山路")
    notice = (await bot.api.wait_for_messages_async(573, 2))[1]
    assert notice["text"] == replies.EDITED_COMMAND.format(command="/subscribe")
    assert not subscriptions.subscription_of(bot.services.db, 573).streets


async def test_staff_commands_in_a_group_are_not_announced_there(tmp_path: Path, api: FakeBotApi) -> None:
    services = make_services(make_settings(tmp_path, api))
    async with running_bot(services, api):
        api.message_update(RESIDENT, "/start", user_id=RESIDENT)  # the resident has a chat with the bot
        await api.wait_for_messages_async(RESIDENT, 1, timeout=30)
        api.message_update(GROUP, "/reindex", user_id=RESIDENT, chat_type="supergroup")
        refusal = (await api.wait_for_messages_async(RESIDENT, 2, timeout=30))[1]
        api.message_update(GROUP, "/stats", user_id=STAFF, chat_type="supergroup")
        private = (await api.wait_for_messages_async(STAFF, 1, timeout=30))[0]
        # The staff member's next question in the group is handled after their /stats.
        api.message_update(GROUP, "/ask 垃圾分类", user_id=STAFF, chat_type="supergroup")
        answer = (await api.wait_for_messages_async(GROUP, 1, timeout=30))[0]
    assert refusal["text"] == REFUSAL
    assert private["text"] == PRIVATE_ONLY.format(what="/stats")
    assert not services.holder.status.started  # no reindex ran
    assert [m["text"] for m in api.sent_messages(GROUP)] == [answer["text"]]  # only the answer to /ask
