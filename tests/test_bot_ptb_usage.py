"""python-telegram-bot used as it is meant to be: `Defaults` for every call, the typed context
and `bot_data`, per-conversation ordering of updates (`ChatOrderedProcessor`), and no SQLite
call on the event loop."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bots import RunningBot, make_services, press, running_bot, upload
from configs import RESIDENT, STAFF, make_settings, write_settings
from corpora import NEW_ISSUE
from fake_bot_api import FakeBotApi
from telegram import Update

from bot.core import replies as texts
from bot.edge.context import BotContext, BotData
from bot.edge.ordering import ChatOrderedProcessor, conversation_of
from index.search import SearchEngine

GROUP = -100700


def update(update_id: int, chat_id: int, user_id: int, chat_type: str = "private") -> Update:
    return Update.de_json(
        {
            "update_id": update_id,
            "message": {
                "message_id": update_id,
                "date": 0,
                "chat": {"id": chat_id, "type": chat_type},
                "from": {"id": user_id, "is_bot": False, "first_name": "R"},
                "text": "t",
            },
        },
        None,
    )


async def test_defaults_and_the_typed_context(bot: RunningBot) -> None:
    assert isinstance(bot.app.bot_data, BotData) and bot.app.bot_data.services is bot.services
    assert bot.app.context_types.context is BotContext
    reply = await bot.ask(560, "垃圾分类")
    # Nothing in the handlers names a parse mode or link previews: both come from Defaults.
    assert reply["parse_mode"] == "HTML"
    assert reply["link_preview_options"] == {"is_disabled": True}
    assert "<b>" in reply["text"]


async def test_one_conversation_runs_in_order_and_others_meanwhile() -> None:
    processor = ChatOrderedProcessor(8)
    events: list[str] = []
    release = asyncio.Event()

    async def work(name: str, wait: asyncio.Event | None = None, fail: bool = False) -> None:
        events.append(f"start {name}")
        if wait is not None:
            await wait.wait()
        if fail:
            raise RuntimeError("a handler outside PTB's own error handling failed")
        events.append(f"end {name}")

    first, second, third = update(1, 10, 10), update(2, 10, 10), update(3, 10, 10)
    running = asyncio.create_task(processor.process_update(first, work("a1", release, fail=True)))
    await asyncio.sleep(0)  # let a1 start (an event-loop turn, not a wait for time)
    assert events == ["start a1"]
    # a2 and a3 queue behind a1: handing them over returns at once.
    await processor.process_update(second, work("a2"))
    await processor.process_update(third, work("a3"))
    assert processor.waiting(first) == 3 and processor.arrived_at(second) is not None
    # Another chat, and two members of one group, do not wait for chat 10.
    await processor.process_update(update(4, 11, 11), work("b1"))
    await processor.process_update(update(5, GROUP, 1, "supergroup"), work("g1"))
    await processor.process_update(update(6, GROUP, 2, "supergroup"), work("g2"))
    assert {"end b1", "end g1", "end g2"} <= set(events) and "start a2" not in events
    release.set()
    await running
    # a1 failed; a2 and a3 still ran, in order, after it.
    assert [e for e in events if e.endswith(("a1", "a2", "a3"))] == [
        "start a1",
        "start a2",
        "end a2",
        "start a3",
        "end a3",
    ]
    assert processor.waiting(first) == 0 and processor.arrived_at(second) is None
    assert conversation_of(update(7, GROUP, 1, "supergroup")) != conversation_of(update(8, GROUP, 2, "supergroup"))


async def test_a_burst_is_answered_in_the_order_it_was_sent(bot: RunningBot) -> None:
    questions = [
        "垃圾分类",
        "积水点改造",
        "老字号企业绣国旗",
        "社区",
        "天山路",
        "义诊",
        "电梯",
        "防疫",
        "志愿者",
        "党建",
    ]
    sent = [
        bot.api.message_update(GROUP, f"/ask {q}", user_id=562, chat_type="supergroup")["message"]["message_id"]
        for q in questions
    ]
    replies = await bot.api.wait_for_messages_async(GROUP, len(questions), timeout=60)
    # In a group each answer quotes its question: they came in the order they were asked.
    assert [r["reply_parameters"]["message_id"] for r in replies] == sent


def spy_on_the_event_loop(db: Any, thread: int, seen: list[str], elsewhere: list[str]) -> None:
    """Record each SQLite call the database makes on `thread` (the event loop's), and elsewhere."""
    for name in ("query", "execute", "transaction"):
        original: Callable[..., Any] = getattr(db, name)

        def spy(*args: Any, _original: Callable[..., Any] = original, _name: str = name, **kwargs: Any) -> Any:
            call = f"{_name} {str(args[0])[:60] if args else ''}"
            (seen if threading.get_ident() == thread else elsewhere).append(call)
            return _original(*args, **kwargs)

        setattr(db, name, spy)


async def test_no_sqlite_call_runs_on_the_event_loop(tmp_path: Path, api: FakeBotApi) -> None:
    services = make_services(make_settings(tmp_path, api))
    on_loop: list[str] = []
    in_workers: list[str] = []
    spy_on_the_event_loop(services.db, threading.get_ident(), on_loop, in_workers)
    async with running_bot(services, api):
        api.document_update(RESIDENT, "x.txt", "社区".encode(), user_id=RESIDENT)  # a resident's file
        for text in ("垃圾分类", "/subscribe 天山路", "/mysubs"):
            api.message_update(RESIDENT, text, user_id=RESIDENT)
        await api.wait_for_messages_async(RESIDENT, 4, timeout=30)
        message_id, _ = await upload(api, "tianshan.txt", NEW_ISSUE.encode(), "天山路街道 2024-05", "预览")
        await press(api, message_id, "✖️ 取消", "已取消")
        before = len(api.sent_messages(STAFF))
        api.message_update(STAFF, "/stats", user_id=STAFF)
        await api.wait_for_messages_async(STAFF, before + 1, timeout=30)
        await api.wait_for_calls_async("sendPhoto", 1, timeout=60)
    assert on_loop == []
    assert any("query_log" in call for call in in_workers)  # the spy saw the calls, in worker threads


async def test_a_burst_beyond_the_queue_is_told_which_questions_went_unanswered(
    tmp_path: Path, api: FakeBotApi, corpus_index: Path, engine: SearchEngine
) -> None:
    settings = write_settings(tmp_path, api, corpus_index, burst=3, rate_per_second=4.0, queue=4)
    questions = [f"/ask 垃圾分类 {n}" for n in range(1, 13)]
    async with running_bot(make_services(settings, engine), api) as bot:
        sent = [
            api.message_update(GROUP, q, user_id=563, chat_type="supergroup")["message"]["message_id"]
            for q in questions
        ]
        replies = await api.wait_for_messages_async(GROUP, 8, timeout=60)
        await api.wait_for_async(lambda: not bot.app.bot_data.refusal_notices, timeout=30)
        # Three at once and four in their turn, in order; then one notice naming the other five,
        # quoting the last of them.
        assert [r["reply_parameters"]["message_id"] for r in replies] == [*sent[:7], sent[-1]]
        assert all("找到" in r["text"] for r in replies[:7])
        notice = replies[7]["text"]
        assert notice.startswith(texts.REFUSED.format(count=5))
        assert [line.split(". ", 1)[1] for line in notice.splitlines()[1:]] == [f"垃圾分类 {n}" for n in range(8, 13)]
        assert len(api.sent_messages(GROUP)) == 8
