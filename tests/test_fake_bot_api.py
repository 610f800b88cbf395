"""Tests for the fake Telegram Bot API server, driven by the real python-telegram-bot client."""

from __future__ import annotations

import asyncio
import datetime as dtm
import json
import urllib.request
import warnings

import pytest
from bots import TOKEN
from fake_bot_api import FakeBotApi, UploadedFile, decode_form_value
from telegram import Bot, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.error import BadRequest, Forbidden, RetryAfter, TimedOut
from telegram.ext import (
    ApplicationBuilder,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    MessageHandler,
    filters,
)
from telegram.request import HTTPXRequest
from telegram.warnings import PTBDeprecationWarning


def make_bot(api: FakeBotApi, **kwargs: object) -> Bot:
    return Bot(TOKEN, base_url=api.base_url, base_file_url=api.base_file_url, **kwargs)  # type: ignore[arg-type]


def test_urls_and_unknown_method(api: FakeBotApi) -> None:
    assert api.base_url == f"http://127.0.0.1:{api.port}/bot"
    assert api.base_file_url == f"http://127.0.0.1:{api.port}/file/bot"
    req = urllib.request.Request(f"{api.base_url}{TOKEN}/noSuchMethod", data=b"", method="POST")
    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(req, timeout=2)
    assert info.value.code == 404
    assert json.loads(info.value.read()) == {
        "ok": False,
        "error_code": 404,
        "description": "Not Found: method not found",
    }
    assert api.calls("noSuchMethod")[0].outcome == "404"


def test_form_value_decoding() -> None:
    assert decode_form_value("chat_id", "123") == 123
    assert decode_form_value("chat_id", "@channel") == "@channel"
    assert decode_form_value("reply_markup", '{"inline_keyboard": []}') == {"inline_keyboard": []}
    # strings are sent raw by PTB, so they must not be JSON-decoded
    assert decode_form_value("text", "123") == "123"
    assert decode_form_value("text", "true") == "true"
    assert decode_form_value("offset", "NaN") == "NaN"


async def test_get_me(api: FakeBotApi) -> None:
    async with make_bot(api) as bot:  # initialize() calls getMe
        me = await bot.get_me()
    assert me.id == 123456
    assert me.is_bot is True
    assert me.username == api.bot_username
    assert [c.method for c in api.calls()] == ["getMe", "getMe"]
    assert all(c.token == TOKEN and c.ok for c in api.calls())


async def test_send_message_with_inline_keyboard_round_trip(api: FakeBotApi) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("Open", callback_data="open:1")]])
    async with make_bot(api) as bot:
        first = await bot.send_message(chat_id=42, text="123", reply_markup=markup)
        second = await bot.send_message(chat_id=42, text="<b>bold</b>", parse_mode="HTML")
        other = await bot.send_message(chat_id=-100777, text="hello group")

    params = api.sent_messages(42)[0]
    assert params["chat_id"] == 42
    assert params["text"] == "123"  # not decoded into an int
    assert params["reply_markup"] == {"inline_keyboard": [[{"text": "Open", "callback_data": "open:1"}]]}
    assert first.text == "123"
    assert first.reply_markup == markup
    assert first.chat.type == "private"
    assert isinstance(first.date, dtm.datetime)
    assert (first.message_id, second.message_id, other.message_id) == (1, 2, 1)
    assert other.chat.type == "supergroup"
    assert api.sent_texts() == ["123", "<b>bold</b>", "hello group"]


async def test_strict_validation_and_edits(api: FakeBotApi) -> None:
    markup = InlineKeyboardMarkup([[InlineKeyboardButton("A", callback_data="a")]])
    async with make_bot(api) as bot:
        with pytest.raises(BadRequest, match=r"(?i)can't parse entities"):
            await bot.send_message(chat_id=1, text="<div>x</div>", parse_mode="HTML")
        with pytest.raises(BadRequest, match=r"(?i)message is too long"):
            await bot.send_message(chat_id=1, text="x" * 4097)
        msg = await bot.send_message(chat_id=1, text="v1", reply_markup=markup)
        edited = await bot.edit_message_text("v2", chat_id=1, message_id=msg.message_id)
        assert isinstance(edited, Message) and edited.text == "v2"
        assert edited.reply_markup is None
        with pytest.raises(BadRequest, match=r"(?i)message is not modified"):
            await bot.edit_message_text("v2", chat_id=1, message_id=msg.message_id)
        again = await bot.edit_message_reply_markup(chat_id=1, message_id=msg.message_id, reply_markup=markup)
        assert isinstance(again, Message) and again.reply_markup == markup
        assert await bot.delete_message(chat_id=1, message_id=msg.message_id) is True
    assert api.message(1, msg.message_id) is None
    assert [c.outcome for c in api.calls("sendMessage")] == ["400", "400", "ok"]


async def test_misc_methods(api: FakeBotApi) -> None:
    async with make_bot(api) as bot:
        assert await bot.set_my_commands([("start", "Start"), ("search", "Search news")])
        commands = await bot.get_my_commands()
        assert [c.command for c in commands] == ["start", "search"]
        assert await bot.delete_my_commands()
        assert await bot.get_my_commands() == ()
        assert await bot.send_chat_action(chat_id=5, action="typing")
        assert await bot.answer_callback_query("cb1", text="done")
        assert await bot.answer_inline_query("iq1", results=[])
        assert await bot.set_webhook("https://example.invalid/hook")
        assert await bot.delete_webhook()
        assert await bot.close()
        assert await bot.log_out()
    assert api.calls("sendChatAction")[0].params == {"chat_id": 5, "action": "typing"}


async def test_get_updates_offset_semantics(api: FakeBotApi) -> None:
    u1 = api.message_update(chat_id=7, text="one")
    u2 = api.message_update(chat_id=7, text="two")
    u3 = api.callback_update(chat_id=7, message_id=1, data="cb")
    assert (u1["update_id"], u2["update_id"], u3["update_id"]) == (1, 2, 3)
    async with make_bot(api) as bot:
        updates = await bot.get_updates()
        assert [u.update_id for u in updates] == [1, 2, 3]
        assert updates[0].message is not None and updates[0].message.text == "one"
        assert updates[0].message.from_user is not None
        assert updates[0].message.from_user.is_bot is False
        assert updates[2].callback_query is not None
        assert updates[2].callback_query.data == "cb"
        # the callback carries the stored message it was pressed on
        assert updates[2].callback_query.message.text == "one"  # type: ignore[union-attr]
        # without offset nothing is confirmed
        assert [u.update_id for u in await bot.get_updates()] == [1, 2, 3]
        # offset confirms (drops) everything below it
        assert [u.update_id for u in await bot.get_updates(offset=3)] == [3]
        assert [u.update_id for u in await bot.get_updates()] == [3]
        assert await bot.get_updates(offset=4) == ()
    assert api.pending_updates() == []


async def test_long_poll_wakes_on_push_and_is_capped() -> None:
    with FakeBotApi(max_long_poll=0.3) as api:
        async with make_bot(api) as bot:
            # Capped: a 60 s long poll comes back empty (a server keeping it 60 s would time the wait out).
            assert await asyncio.wait_for(bot.get_updates(timeout=60), 30) == ()
            capped = api.calls("getUpdates")[-1]
            # Held for the whole cap, measured at the server (1 ms: time.time() against the monotonic deadline).
            assert capped.answered - capped.time >= 0.3 - 0.001

            api.max_long_poll = 120.0
            polling = asyncio.create_task(bot.get_updates(timeout=120))
            await api.wait_for_async(lambda: api.long_polls_waiting == 1, timeout=30, message="the poll waiting")
            api.message_update(9, "wake up")
            # Woken by the push: without it the poll would last 120 s and the wait time out at 30.
            updates = await asyncio.wait_for(polling, 30)
    assert [u.message.text for u in updates if u.message] == ["wake up"]


async def test_long_poll_wakes_on_push_from_thread() -> None:
    with FakeBotApi(max_long_poll=120.0) as api:
        async with make_bot(api) as bot:
            task = asyncio.create_task(bot.get_updates(timeout=120))
            await api.wait_for_async(lambda: api.long_polls_waiting == 1, timeout=30, message="the poll waiting")
            await asyncio.to_thread(api.message_update, 9, "from thread")
            updates = await asyncio.wait_for(task, 30)  # woken: the poll itself would last 120 s
    assert updates[0].message is not None and updates[0].message.text == "from thread"


async def test_send_document_upload_get_file_and_download(api: FakeBotApi) -> None:
    payload = b"line1\r\nline2\n\x00\xff binary \r\n--not-a-boundary\r\n"
    async with make_bot(api) as bot:
        msg = await bot.send_document(chat_id=42, document=payload, filename="digest.txt", caption="今日新闻")
        assert msg.document is not None
        assert msg.document.file_name == "digest.txt"
        assert msg.document.file_size == len(payload)
        assert msg.caption == "今日新闻"
        tg_file = await bot.get_file(msg.document.file_id)
        downloaded = await tg_file.download_as_bytearray()
    assert bytes(downloaded) == payload
    call = api.calls("sendDocument")[0]
    upload = call.params["document"]
    assert isinstance(upload, UploadedFile)
    assert upload.data == payload and upload.filename == "digest.txt"
    assert call.params["chat_id"] == 42
    assert api.file_bytes(msg.document.file_id) == payload


async def test_document_update_is_downloadable(api: FakeBotApi) -> None:
    api.document_update(chat_id=3, file_name="tips.csv", content=b"a,b\n1,2\n", mime_type="text/csv")
    api.sticker_update(chat_id=3)
    api.photo_update(chat_id=3, caption="pic")
    api.voice_update(chat_id=3)
    api.inline_query_update(user_id=3, query="浦东")
    async with make_bot(api) as bot:
        updates = await bot.get_updates()
        doc_msg = updates[0].message
        assert doc_msg is not None and doc_msg.document is not None
        tg_file = await bot.get_file(doc_msg.document.file_id)
        assert bytes(await tg_file.download_as_bytearray()) == b"a,b\n1,2\n"
    assert updates[1].message is not None and updates[1].message.sticker is not None
    assert updates[2].message is not None and updates[2].message.photo
    assert updates[3].message is not None and updates[3].message.voice is not None
    assert updates[4].inline_query is not None and updates[4].inline_query.query == "浦东"


async def test_fail_next_429_raises_retry_after(api: FakeBotApi) -> None:
    api.fail_next("sendMessage", "429", retry_after=7)
    async with make_bot(api) as bot:
        with warnings.catch_warnings():
            # PTB 22.x warns about RetryAfter.retry_after becoming a timedelta
            warnings.simplefilter("ignore", PTBDeprecationWarning)
            with pytest.raises(RetryAfter) as info:
                await bot.send_message(chat_id=1, text="hi")
            assert info.value.retry_after in (7, dtm.timedelta(seconds=7))
        # the rule was consumed: the next call succeeds
        await bot.send_message(chat_id=1, text="hi")
    assert [c.outcome for c in api.calls("sendMessage")] == ["429", "ok"]
    assert len(api.sent_messages(1)) == 1


async def test_fail_next_403_and_block_chat(api: FakeBotApi) -> None:
    api.fail_next("sendMessage", "403", chat_id=2)
    async with make_bot(api) as bot:
        await bot.send_message(chat_id=1, text="unaffected")
        with pytest.raises(Forbidden, match="blocked"):
            await bot.send_message(chat_id=2, text="x")
        await bot.send_message(chat_id=2, text="ok now")

        api.block_chat(3)
        for _ in range(2):
            with pytest.raises(Forbidden):
                await bot.send_message(chat_id=3, text="x")
        with pytest.raises(Forbidden):
            await bot.send_document(chat_id=3, document=b"x", filename="x.txt")
        api.unblock_chat(3)
        await bot.send_message(chat_id=3, text="back")
    assert api.sent_texts() == ["unaffected", "ok now", "back"]


async def test_fail_next_hang_raises_timed_out() -> None:
    # The hang (120 s) is far longer than the client's read timeout and than the waits below, so
    # the outcomes cannot depend on how fast the machine is.
    with FakeBotApi(hang_seconds=120) as api:
        api.fail_next("sendMessage", "hang")
        async with make_bot(api, request=HTTPXRequest(read_timeout=0.5)) as bot:
            with pytest.raises(TimedOut):  # a served hang would answer 502 (NetworkError), not time out
                await bot.send_message(chat_id=1, text="slow")
            await bot.send_message(chat_id=1, text="fast")
        assert api.calls("sendMessage")[0].outcome == "hang"
        assert api.sent_texts() == ["fast"]  # a hung call has no side effects
        # stop() interrupts the hung handler instead of waiting out its 120 s.
        await asyncio.wait_for(asyncio.to_thread(api.stop), 30)


def test_wait_for_times_out_with_useful_message(api: FakeBotApi) -> None:
    with pytest.raises(AssertionError, match=r"expected >= 1 sendMessage call\(s\)"):
        api.wait_for_calls("sendMessage", count=1, timeout=0.05)
    assert api.wait_for(lambda: 5, timeout=0.05) == 5


async def test_application_polling_end_to_end(api: FakeBotApi) -> None:
    async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None
        keyboard = InlineKeyboardMarkup([[InlineKeyboardButton("More", callback_data="more")]])
        await update.effective_message.reply_text("welcome", reply_markup=keyboard)

    async def echo(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        assert update.effective_message is not None and update.effective_message.text
        await update.effective_message.reply_text(f"echo: {update.effective_message.text}")

    async def more(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
        query = update.callback_query
        assert query is not None
        await query.answer()
        await query.edit_message_text("more news")

    app = ApplicationBuilder().token(TOKEN).base_url(api.base_url).base_file_url(api.base_file_url).build()
    app.add_handler(CommandHandler("start", start))
    app.add_handler(MessageHandler(filters.TEXT & ~filters.COMMAND, echo))
    app.add_handler(CallbackQueryHandler(more))

    await app.initialize()
    await app.start()
    assert app.updater is not None
    # PTB types `timeout` as int | timedelta; a float 0.2 works at runtime too
    await app.updater.start_polling(poll_interval=0, timeout=dtm.timedelta(seconds=0.2))
    try:
        api.message_update(chat_id=555, text="/start")
        api.message_update(chat_id=555, text="陆家嘴 news")
        replies = await api.wait_for_messages_async(chat_id=555, count=2, timeout=2)
        assert [r["text"] for r in replies] == ["welcome", "echo: 陆家嘴 news"]
        welcome_id = 3  # ids 1 and 2 are the user's messages in chat 555
        assert api.message(555, welcome_id) is not None
        api.callback_update(chat_id=555, message_id=welcome_id, data="more")
        await api.wait_for_calls_async("editMessageText", 1, timeout=2)
        assert api.calls("answerCallbackQuery")
        edited = api.message(555, welcome_id)
        assert edited is not None and edited["text"] == "more news"
    finally:
        await app.updater.stop()
        await app.stop()
        await app.shutdown()
    assert api.calls("deleteWebhook")
    assert api.pending_updates() == []  # the final getUpdates confirmed everything
