"""Whatever residents send, the bot answers sensibly and keeps running: media, huge or odd
messages, garbage arguments, floods, stale buttons, failing API calls, blocked chats."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
from bots import TOKEN, RunningBot, make_services, running_bot
from configs import write_settings
from fake_bot_api import FakeBotApi
from telegram import Update
from telegram.ext import ApplicationHandlerStop, MessageHandler, filters

from bot.core import callbacks, replies, subscriptions
from bot.core.settings import Settings
from bot.edge.app import build_application, start_application, stop_application
from bot.edge.context import BotContext
from bot.edge.routing import DECLINED, STAFF_GROUP, taking
from index.search import SearchEngine


def all_calls_ok(api: FakeBotApi) -> None:
    failed = [(c.method, c.outcome, c.params.get("text")) for c in api.calls() if not c.ok]
    assert failed == []


async def test_media_gets_text_only(bot: RunningBot) -> None:
    bot.api.sticker_update(401)
    bot.api.photo_update(402, caption="这是什么？")
    bot.api.voice_update(403)
    bot.api.document_update(404, "issue.txt", "社区报".encode())
    for chat in (401, 402, 403, 404):
        sent = await bot.api.wait_for_messages_async(chat, 1)
        assert sent[0]["text"] == replies.TEXT_ONLY
    all_calls_ok(bot.api)


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("垃圾分类" * 1024, "找到"),  # 4096 characters
        ("😀🎉👍", "请输入想查找的内容"),
        ("<b>垃圾分类</b> & <i>", "找到"),
        ("<script>alert('x')</script> &amp;", "没有"),
        ("的了吗", "没有可以查找的关键词"),
        ("Where is 天山路 积水点?", "找到"),
        ("𠀀𠀁 emoji 🧧 mixed РУС العربية", "没有"),
        ("/latest <b>&</b>", "没有找到“&lt;b&gt;&amp;&lt;/b&gt;”"),
        ("/latest " + "长" * 3000, "没有找到"),
        ("/subscribe ;;;", "没有找到"),
        ("/unsubscribe %%%", "你没有订阅"),
        ("/mysubs extra words", "还没有订阅"),
        ("/start bogus-payload", "社区报小助手"),
        ("/help me please", "怎么用"),
        ("/nosuchcommand", "没有这个命令"),
        ("/ask", "/ask 垃圾分类"),
    ],
)
async def test_odd_messages_get_a_sensible_reply(bot: RunningBot, text: str, expected: str) -> None:
    reply = await bot.ask(410, text)
    assert expected in reply["text"]
    assert reply.get("parse_mode") == "HTML"
    all_calls_ok(bot.api)


async def test_fast_senders_are_asked_to_slow_down(
    tmp_path: Path, api: FakeBotApi, corpus_index: Path, engine: SearchEngine
) -> None:
    settings = write_settings(tmp_path, api, corpus_index, burst=3, rate_per_second=5.0, queue=2)
    async with running_bot(make_services(settings, engine), api) as bot:
        for n in range(6):
            api.message_update(420, f"垃圾分类 {n}")
        # Three at once, two more in their turn, and the sixth told plainly it is not answered.
        sent = await api.wait_for_messages_async(420, 6, timeout=60)
        texts = [m["text"] for m in sent]
        full = [m for m in sent if "不会回答" in m["text"]]
        assert len(full) == 1
        assert sum("找到" in t for t in texts) == 5

        # A button pressed while too fast is answered (so it stops spinning) but does nothing.
        await bot.press(420, 1, callbacks.example(0))
        assert api.calls("answerCallbackQuery")[-1].params.get("text") is None
        assert len(api.sent_messages(420)) == 6

        other = await bot.ask(421, "垃圾分类")  # other residents are not affected
        assert "找到" in other["text"]

        await asyncio.sleep(1.1)  # the bucket refills at one question a second
        again = await bot.ask(420, "积水点")
        assert "找到" in again["text"]


async def test_stale_and_forged_buttons_say_expired(bot: RunningBot) -> None:
    today = callbacks.today()
    cases = {
        "r0:a:1:=004_8c6126055dad1091-02": replies.EXPIRED,  # an older format
        "next_page_3": replies.EXPIRED,  # not ours at all
        callbacks.open_article("004_8c6126055dad1091-02", day=today - 31): replies.EXPIRED,  # too old
        callbacks.more_results(987654, 3): replies.EXPIRED,  # the query-log row does not exist
        callbacks.open_article("no-such-article"): replies.ARTICLE_GONE,
        callbacks.latest("火星路街道"): replies.EXPIRED,
        callbacks.example(42): replies.EXPIRED,
        "r1:p:zz:abc:=x": replies.EXPIRED,
    }
    for number, (data, expected) in enumerate(cases.items(), start=1):
        await bot.press(430, number, data)
        answer = bot.api.calls("answerCallbackQuery")[-1]
        assert answer.params.get("text") == expected, data
    assert bot.api.sent_messages(430) == []
    all_calls_ok(bot.api)


async def test_a_failing_reply_does_not_stop_the_bot(bot: RunningBot) -> None:
    # A 400 is Telegram's final word (a 5xx would be retried: tests/test_bot_retry.py).
    bot.api.fail_next("sendMessage", "400", chat_id=440)
    bot.api.message_update(440, "垃圾分类")
    error = await bot.api.wait_for_messages_async(440, 1)
    assert error[0]["text"] == replies.ERROR
    reply = await bot.ask(440, "积水点改造")
    assert "王为人检查天山积水点改造" in reply["text"]


async def test_a_resident_who_blocked_the_bot_is_marked(bot: RunningBot) -> None:
    await bot.ask(450, "/subscribe 天山路")
    bot.api.block_chat(450)
    bot.api.message_update(450, "垃圾分类")
    await bot.api.wait_for_calls_async("sendMessage", 2)
    await bot.api.wait_for_async(lambda: not subscriptions.subscription_of(bot.services.db, 450).active)
    assert subscriptions.subscribers_for(bot.services.db, "天山路街道") == []


async def test_a_handler_that_takes_an_update_stops_the_catch_alls(
    settings: Settings, api: FakeBotApi, engine: SearchEngine
) -> None:
    async def upload(update: Update, context: BotContext) -> bool | None:
        assert update.effective_message is not None and update.effective_message.document is not None
        if update.effective_message.document.file_name != "issue.txt":
            return DECLINED  # not ours after all: the resident catch-all answers it
        await update.effective_message.reply_text("staff: upload received")
        return None

    async def conversation(update: Update, context: BotContext) -> None:
        assert update.effective_message is not None
        await update.effective_message.reply_text("staff: month noted")
        raise ApplicationHandlerStop

    services = make_services(settings, engine)
    app = build_application(services, TOKEN)
    app.add_handler(MessageHandler(filters.Document.ALL, taking(upload)), STAFF_GROUP + 1)
    app.add_handler(MessageHandler(filters.Regex(r"^\d{4}-\d{2}$"), conversation), STAFF_GROUP + 1)
    await start_application(app)
    try:
        api.document_update(460, "issue.txt", "报".encode())
        api.document_update(463, "photo.txt", "报".encode())
        api.message_update(461, "2021-05")
        api.message_update(462, "/staffonly")
        third = await api.wait_for_messages_async(462, 1)
        declined = await api.wait_for_messages_async(463, 1)
        # One chat's updates run in order: a second reply to the first would come before this one.
        for chat in (460, 461):
            await api.wait_for_messages_async(chat, 1)
            api.message_update(chat, "/help")
            await api.wait_for_messages_async(chat, 2)
        assert api.sent_messages(460)[0]["text"] == "staff: upload received"
        assert api.sent_messages(461)[0]["text"] == "staff: month noted"
        assert all("怎么用" in m["text"] for m in api.sent_messages(460)[1:] + api.sent_messages(461)[1:])
        assert third[0]["text"] == replies.UNKNOWN_COMMAND
        assert declined[0]["text"] == replies.TEXT_ONLY
    finally:
        await stop_application(app)
