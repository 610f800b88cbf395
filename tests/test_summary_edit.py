"""Staff correct a summary line before Publish, against the fake Bot API: ✏️ 修改, the corrected
line checked, the preview updated, the broadcast carrying exactly what the preview showed, and
the correction surviving a restart of the bot (kept in the state database)."""

from __future__ import annotations

import time
from typing import Any

import pytest
from bots import add_subscribers, bot_messages, buttons, make_services, running_bot, wait_for_bot_message
from configs import STAFF
from corpora import NEW_ISSUE
from fake_bot_api import FakeBotApi

from bot.core import summary_edits
from bot.core.broadcasts import recent_broadcasts
from bot.core.services import BotServices
from bot.core.state import Database
from index.article import Article
from index.summary import MAX_CHARS

STREET = "天山路街道"
SUBSCRIBERS = [3101, 3102]
NEW_LINE = "天山路街道议事会商定加装电梯费用按楼层分摊，年内先在三个小区开工。"
RULE = "┈┈┈┈┈┈┈┈"


@pytest.fixture
def services(services: BotServices) -> BotServices:
    """The conftest staff services, with subscribers."""
    add_subscribers(services.db, dict.fromkeys(SUBSCRIBERS, STREET))
    return services


def edit_buttons(message: dict[str, Any]) -> dict[str, str]:
    return {text: data for text, data in buttons(message).items() if text.startswith("✏️ 修改")}


def shown_broadcast(preview_text: str) -> str:
    """The part of the preview that says what subscribers receive."""
    parts = preview_text.split(RULE)
    assert len(parts) == 3, preview_text
    return parts[1].strip("\n")


async def assert_subscribers_received(api: FakeBotApi, shown: str) -> None:
    """Every subscriber got the message the preview showed (its last line stands for the buttons)."""
    message_text, buttons_shown = shown.rsplit("\n", 1)
    assert buttons_shown.startswith("[📖 全文 ×3]")
    for chat in SUBSCRIBERS:
        received = (await api.wait_for_messages_async(chat, 1, timeout=30))[0]
        assert received["text"] == message_text


async def upload(api: FakeBotApi) -> tuple[int, dict[str, Any]]:
    api.document_update(STAFF, "tianshan-2020-07.txt", NEW_ISSUE.encode(), caption="天山路街道 2020-07", user_id=STAFF)
    return await wait_for_bot_message(api, STAFF, "预览")


async def wait_for_count(api: FakeBotApi, contains: str, count: int) -> None:
    """Until `count` bot messages in the staff chat contain `contains`."""

    def enough() -> bool:
        return sum(contains in str(m.get("text", "")) for _, m in bot_messages(api, STAFF)) >= count

    await api.wait_for_async(enough, timeout=30, message=f"{count} messages containing {contains!r}")


async def reply_count(api: FakeBotApi, before: int) -> list[dict[str, Any]]:
    return await api.wait_for_messages_async(STAFF, before + 1, timeout=30)


async def test_edited_line_shows_in_the_preview_and_is_broadcast(api: FakeBotApi, services: BotServices) -> None:
    async with running_bot(services, api):
        preview_id, preview = await upload(api)
        edits = edit_buttons(preview)
        assert len(edits) == 3 and {"✅ 发布", "✖️ 取消"} <= set(buttons(preview))
        second = next(text for text in edits if text.startswith("✏️ 修改 2."))
        old_line = shown_broadcast(preview["text"]).split("<b>居民议事会讨论加装电梯</b>\n")[1].split("\n")[0]
        assert old_line and old_line != NEW_LINE

        api.callback_update(STAFF, preview_id, edits[second], user_id=STAFF)
        await wait_for_bot_message(api, STAFF, "请发送第 2 篇")

        # Bad lines are explained; nothing changes and the question stays open.
        for bad, reason in (("   ", "不能是空的"), ("很" * (MAX_CHARS + 1), f"超过了 {MAX_CHARS} 个字")):
            before = len(api.sent_messages(STAFF))
            api.message_update(STAFF, bad, user_id=STAFF)
            answer = (await reply_count(api, before))[-1]["text"]
            assert reason in answer and "没有改" in answer
            assert (api.message(STAFF, preview_id) or {}).get("text") == preview["text"]

        before = len(api.sent_messages(STAFF))
        api.message_update(STAFF, f"  {NEW_LINE}\n", user_id=STAFF)
        await wait_for_bot_message(api, STAFF, "摘要改为")
        updated = api.message(STAFF, preview_id)
        assert updated is not None
        shown = shown_broadcast(updated["text"])
        assert NEW_LINE in shown and old_line not in shown
        assert "已修改 1 篇" in updated["text"] and len(edit_buttons(updated)) == 3
        # Other lines are untouched.
        assert shown_broadcast(preview["text"]).replace(old_line, NEW_LINE) == shown

        api.callback_update(STAFF, preview_id, buttons(updated)["✅ 发布"], user_id=STAFF)
        await wait_for_bot_message(api, STAFF, "已发布")
        await assert_subscribers_received(api, shown)
    db = Database(services.settings.state_db)
    infos = recent_broadcasts(db)
    assert len(infos) == 1
    text = db.query("SELECT text FROM broadcasts")[0][0]
    assert NEW_LINE in text and old_line not in text
    assert db.query("SELECT COUNT(*) FROM summary_edit_prompts")[0][0] == 0


async def test_cancelled_edit_and_cancelled_upload_change_nothing(api: FakeBotApi, services: BotServices) -> None:
    async with running_bot(services, api):
        preview_id, preview = await upload(api)
        first = next(data for text, data in edit_buttons(preview).items() if text.startswith("✏️ 修改 1."))
        api.callback_update(STAFF, preview_id, first, user_id=STAFF)
        await wait_for_bot_message(api, STAFF, "请发送第 1 篇")
        api.message_update(STAFF, "取消", user_id=STAFF)
        await wait_for_bot_message(api, STAFF, "的摘要没有改")
        assert (api.message(STAFF, preview_id) or {}).get("text") == preview["text"]

        api.callback_update(STAFF, preview_id, first, user_id=STAFF)
        await wait_for_count(api, "请发送第 1 篇", 2)
        api.message_update(STAFF, NEW_LINE, user_id=STAFF)
        await wait_for_bot_message(api, STAFF, "摘要改为")
        api.callback_update(STAFF, preview_id, buttons(preview)["✖️ 取消"], user_id=STAFF)
        await wait_for_bot_message(api, STAFF, "已取消")

        # Sent again, the file starts from the generated lines: Cancel kept nothing.
        api.clear_calls()
        api.document_update(STAFF, "again.txt", NEW_ISSUE.encode(), caption="天山路街道 2020-07", user_id=STAFF)
        again = await api.wait_for_messages_async(STAFF, 1, timeout=30)
        assert NEW_LINE not in again[-1]["text"] and "已修改" not in again[-1]["text"]
    assert recent_broadcasts(Database(services.settings.state_db)) == []


async def test_upload_and_edit_survive_a_restart(api: FakeBotApi, services: BotServices) -> None:
    async with running_bot(services, api):
        preview_id, preview = await upload(api)
        second = next(data for text, data in edit_buttons(preview).items() if text.startswith("✏️ 修改 2."))
        api.callback_update(STAFF, preview_id, second, user_id=STAFF)
        await wait_for_bot_message(api, STAFF, "请发送第 2 篇")

    # A new process (as another worker would): the upload, the question and the correction are
    # all in the state database, so the conversation goes on where it was.
    restarted = make_services(services.settings)
    async with running_bot(restarted, api):
        api.message_update(STAFF, NEW_LINE, user_id=STAFF)
        await wait_for_bot_message(api, STAFF, "摘要改为")
        updated = api.message(STAFF, preview_id)
        assert updated is not None and "已修改 1 篇" in updated["text"]
        shown = shown_broadcast(updated["text"])
        assert NEW_LINE in shown
        api.callback_update(STAFF, preview_id, buttons(preview)["✅ 发布"], user_id=STAFF)
        await wait_for_bot_message(api, STAFF, "已发布")
        await assert_subscribers_received(api, shown)


def test_check_line() -> None:
    assert summary_edits.check_line(" 第一句\n 第二句 ") == ("第一句 第二句", None)
    assert summary_edits.check_line(" \n\t")[1] == summary_edits.EMPTY
    assert summary_edits.check_line("字" * MAX_CHARS)[1] is None
    assert summary_edits.check_line("字" * (MAX_CHARS + 1))[1] == summary_edits.TOO_LONG


def test_store_keeps_edits_and_questions_across_connections(state_url: str) -> None:
    path = state_url
    store = summary_edits.SummaryEdits(Database(path), ttl=3600)
    prompt = summary_edits.Prompt(1, 2, "k", 2, "标题", "tok", 10, asked_at=time.time())
    store.ask(prompt)
    store.save("k", 2, "改好的一句。", 2)
    store.save("other", 2, "别的一期。", 2)
    again = summary_edits.SummaryEdits(Database(path), ttl=3600)
    assert again.asking(1, 2) == prompt and again.asking(1, 3) is None
    assert again.edits("k") == {2: "改好的一句。"}
    lines = [
        (Article(id="a1", headline="一", body="甲。"), "甲。"),
        (Article(id="a2", headline="二", body="乙。"), "乙。"),
    ]
    assert [line for _, line in summary_edits.apply(lines, again.edits("k"))] == ["甲。", "改好的一句。"]
    again.discard("k")
    assert again.edits("k") == {} and again.asking(1, 2) is None and again.edits("other")
    expired = summary_edits.SummaryEdits(Database(path), ttl=0.0)
    expired.ask(prompt)
    assert expired.asking(1, 2) is None


def test_a_prompt_asked_through_one_worker_is_known_to_the_other(
    postgres_url: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.core.summary_edits.SHARED_CACHE_SECONDS", 0.0)
    first = summary_edits.SummaryEdits(Database(postgres_url), ttl=3600)
    second = summary_edits.SummaryEdits(Database(postgres_url), ttl=3600)
    prompt = summary_edits.Prompt(1, 2, "k", 2, "标题", "tok", 10, asked_at=time.time())
    assert second.asking(1, 2) is None
    first.ask(prompt)
    assert second.asking(1, 2) == prompt
    second.answered(1, 2)
    assert first.asking(1, 2) is None
