"""Replies survive a busy or briefly unreachable Bot API: 429, 5xx and connections that never
opened are retried with a bounded back-off, and nothing Telegram may have accepted is sent twice."""

from __future__ import annotations

import httpx
import pytest
from bots import TOKEN, RunningBot
from telegram import Bot
from telegram.error import NetworkError, TimedOut

from bot.core import replies
from bot.edge.request import MAX_ATTEMPTS, RetryingRequest, backoff

ME = {"id": 123456, "is_bot": True, "first_name": "Newsbot", "username": "newsbot"}


async def test_a_reply_meeting_a_5xx_or_a_429_is_delivered_once(bot: RunningBot) -> None:
    bot.api.fail_next("sendMessage", "500", count=2, chat_id=470)
    reply = await bot.ask(470, "垃圾分类")
    assert "垃圾" in reply["text"] and reply["text"] != replies.ERROR
    bot.api.fail_next("sendMessage", "429", retry_after=1, chat_id=471)
    reply = await bot.ask(471, "垃圾分类")
    assert "垃圾" in reply["text"]
    outcomes = [c.outcome for c in bot.api.calls("sendMessage") if c.params.get("chat_id") in (470, 471)]
    assert outcomes == ["500", "500", "ok", "429", "ok"]
    assert len(bot.api.sent_messages(470)) == 1 and len(bot.api.sent_messages(471)) == 1


async def test_retries_are_bounded_and_the_resident_is_told(bot: RunningBot) -> None:
    bot.api.fail_next("sendMessage", "500", count=MAX_ATTEMPTS, chat_id=472)
    bot.api.message_update(472, "垃圾分类")
    error = await bot.api.wait_for_messages_async(472, 1, timeout=30)
    assert error[0]["text"] == replies.ERROR
    failed = [c for c in bot.api.calls("sendMessage") if c.params.get("chat_id") == 472 and not c.ok]
    assert len(failed) == MAX_ATTEMPTS


def _transport(script: list[str], seen: list[str]) -> httpx.MockTransport:
    """A transport answering getMe/sendMessage by `script`: "connect", "read", "500" or "ok"."""

    def handle(request: httpx.Request) -> httpx.Response:
        step = script.pop(0) if script else "ok"
        seen.append(step)
        if step == "connect":
            raise httpx.ConnectError("connection refused", request=request)
        if step == "read":
            raise httpx.ReadTimeout("no answer", request=request)
        if step == "500":
            return httpx.Response(500, json={"ok": False, "error_code": 500, "description": "Internal"})
        method = request.url.path.rsplit("/", 1)[-1]
        if method == "getMe":
            return httpx.Response(200, json={"ok": True, "result": ME})
        message = {"message_id": 1, "date": 0, "chat": {"id": 5, "type": "private"}, "text": "hi"}
        return httpx.Response(200, json={"ok": True, "result": message})

    return httpx.MockTransport(handle)


async def _no_sleep(seconds: float) -> None:
    assert 0 < seconds <= 30


async def test_a_connection_that_never_opened_is_retried() -> None:
    seen: list[str] = []
    request = RetryingRequest(httpx_kwargs={"transport": _transport(["ok", "connect", "connect"], seen)})
    request._sleep = _no_sleep
    async with Bot(TOKEN, request=request) as bot:
        message = await bot.send_message(5, "hi")
    assert message.text == "hi"
    assert seen == ["ok", "connect", "connect", "ok"] and request.retries == 2


async def test_a_request_that_may_have_arrived_is_not_repeated() -> None:
    seen: list[str] = []
    request = RetryingRequest(httpx_kwargs={"transport": _transport(["ok", "read"], seen)})
    request._sleep = _no_sleep
    async with Bot(TOKEN, request=request) as bot:
        with pytest.raises(TimedOut):
            await bot.send_message(5, "hi")
    assert seen == ["ok", "read"] and request.retries == 0


async def test_a_server_that_stays_down_gives_up_after_the_bound() -> None:
    seen: list[str] = []
    request = RetryingRequest(httpx_kwargs={"transport": _transport(["ok"] + ["connect"] * 10, seen)})
    request._sleep = _no_sleep
    async with Bot(TOKEN, request=request) as bot:
        with pytest.raises(NetworkError):
            await bot.send_message(5, "hi")
    assert seen.count("connect") == MAX_ATTEMPTS


def test_backoff_doubles_up_to_a_cap() -> None:
    waits = [backoff(n) for n in range(1, 12)]
    assert waits == sorted(waits) and waits[0] > 0 and max(waits) <= 4.0
