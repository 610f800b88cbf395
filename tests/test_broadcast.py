"""The durable broadcast queue and its sender, against the fake Bot API (fast: high rates)."""

from __future__ import annotations

import asyncio
import dataclasses
import sqlite3
import time
from collections import Counter
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from typing import Any

import pytest
from bots import TOKEN, add_subscribers, make_services, running_bot
from configs import make_settings
from fake_bot_api import FakeBotApi
from telegram import Bot
from telegram.request import HTTPXRequest

from bot.core.broadcast_claims import reserve_slot
from bot.core.broadcasts import (
    BLOCKED,
    DONE,
    FAILED,
    PENDING,
    SENDING,
    SENT,
    SKIPPED,
    UNKNOWN,
    AlreadyBroadcast,
    counts_of,
    get_broadcast,
    queue_broadcast,
)
from bot.core.publishing import recipients_for
from bot.core.settings import BroadcastSettings
from bot.core.staff_texts import format_duration
from bot.core.state import Database
from bot.edge.sender import BroadcastSender

STREET = "天山路街道"
REPORT_CHAT = 1001
# PTB itself reads RetryAfter.retry_after while building the exception, which warns in 22.x.
pytestmark = pytest.mark.filterwarnings("ignore::telegram.warnings.PTBDeprecationWarning")


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    with FakeBotApi(hang_seconds=1.0) as server:
        yield server


@pytest.fixture
def db(state_url: str) -> Iterator[Database]:
    """The state database, on SQLite and on PostgreSQL in turn."""
    database = Database(state_url)
    yield database
    database.close()


@pytest.fixture
async def bot(api: FakeBotApi) -> AsyncIterator[Bot]:
    request = HTTPXRequest(connection_pool_size=16)
    async with Bot(TOKEN, base_url=api.base_url, base_file_url=api.base_file_url, request=request) as instance:
        yield instance


def settings(rate: float = 200.0, per_chat: float = 1.0, attempts: int = 3) -> BroadcastSettings:
    return BroadcastSettings(
        messages_per_second=rate, per_chat_interval=per_chat, max_attempts=attempts, progress_every=0.2
    )


def queue(db: Database, issue: str = "issue-1", street: str = STREET, report: int | None = REPORT_CHAT) -> int:
    broadcast_id, _ = queue_broadcast(
        db, issue, street, f"测试报 {issue}", f"<b>{issue}</b> 新一期", recipients_for(db, street), None, report
    )
    return broadcast_id


def copies(api: FakeBotApi) -> Counter[int]:
    return Counter(int(p["chat_id"]) for p in api.sent_messages() if int(p["chat_id"]) != REPORT_CHAT)


def states(db: Database, broadcast_id: int) -> dict[int, str]:
    rows = db.query("SELECT chat_id, state FROM deliveries WHERE broadcast_id = ?", (broadcast_id,))
    return {int(r[0]): str(r[1]) for r in rows}


async def run_until_idle(sender: BroadcastSender, timeout: float = 20.0) -> None:
    await asyncio.wait_for(sender.run(until_idle=True), timeout)


def test_shared_pace_spaces_slots_evenly(db: Database) -> None:
    now = 100.0
    slots = [reserve_slot(db, 25.0, now=now) for _ in range(51)]
    assert slots[0] == now
    assert slots[25] - now == pytest.approx(1.0)
    assert slots[50] - now == pytest.approx(2.0)
    # Idle time is not saved up into a burst.
    now += 60
    assert reserve_slot(db, 25.0, now=now) == now
    assert reserve_slot(db, 25.0, now=now) - now == pytest.approx(0.04)
    # A second worker (another connection) takes the slots after the first one's.
    other = Database(db.url)
    assert reserve_slot(other, 25.0, now=now) - now == pytest.approx(0.08)
    other.close()


def test_format_duration() -> None:
    assert format_duration(45.4) == "45 秒"
    assert format_duration(80) == "1 分 20 秒"
    assert format_duration(3 * 3600 + 120) == "3 小时 2 分"


def test_queue_has_one_row_per_subscriber_of_the_street_or_all(db: Database) -> None:
    add_subscribers(db, {1: STREET, 2: "*", 3: "花木街道", 4: "天山路"})
    add_subscribers(db, {5: STREET}, active=False)
    add_subscribers(db, {1: "*"})  # subscribed twice over: still one copy
    broadcast_id = queue(db)
    assert sorted(states(db, broadcast_id)) == [1, 2, 4]
    assert set(states(db, broadcast_id).values()) == {PENDING}
    info = get_broadcast(db, broadcast_id)
    assert info is not None and info.total == 3 and info.state == "queued"
    with pytest.raises(AlreadyBroadcast):
        queue(db)
    assert len(db.query("SELECT * FROM deliveries")) == 3


def test_queue_without_subscribers_is_done_at_once(db: Database) -> None:
    broadcast_id = queue(db, report=None)
    info = get_broadcast(db, broadcast_id)
    assert info is not None and info.state == DONE and info.total == 0


async def test_faults_are_handled_per_delivery(api: FakeBotApi, bot: Bot, db: Database) -> None:
    chats = list(range(10, 40))
    add_subscribers(db, dict.fromkeys(chats, STREET))
    throttled, blocked, flaky, hung, hopeless, refused = 12, 13, 14, 15, 16, 17
    api.fail_next("sendMessage", "429", retry_after=1, chat_id=throttled)
    api.block_chat(blocked)
    api.fail_next("sendMessage", "500", chat_id=flaky)
    api.fail_next("sendMessage", "hang", chat_id=hung)
    api.fail_next("sendMessage", "500", count=3, chat_id=hopeless)
    api.fail_next("sendMessage", "400", chat_id=refused)
    broadcast_id = queue(db)
    sender = BroadcastSender(db, bot, settings(per_chat=0.2), send_timeout=0.3, backoff=0.05)
    await run_until_idle(sender)

    got = copies(api)
    for chat in chats:
        expected = 0 if chat in (blocked, hopeless, refused) else 1
        assert got[chat] == expected, chat
    final = states(db, broadcast_id)
    assert final[blocked] == BLOCKED and final[hopeless] == FAILED and final[refused] == FAILED
    assert {final[c] for c in chats if c not in (blocked, hopeless, refused)} == {SENT}
    subscriber = db.query("SELECT active, blocked_at FROM subscribers WHERE chat_id = ?", (blocked,))[0]
    assert subscriber["active"] == 0 and subscriber["blocked_at"] is not None
    attempts = db.query("SELECT attempts, error FROM deliveries WHERE chat_id = ?", (hopeless,))[0]
    assert attempts["attempts"] == 3 and "gave up" in attempts["error"]
    # The 429 delayed that one message by its retry_after, and nobody else.
    calls = api.calls("sendMessage")
    tries = [c for c in calls if c.params["chat_id"] == throttled]
    assert [c.outcome for c in tries] == ["429", "ok"]
    assert tries[1].time - tries[0].time >= 0.95
    others_meanwhile = [c for c in calls if tries[0].time < c.time < tries[1].time and c.params["chat_id"] != throttled]
    assert len(others_meanwhile) >= 20
    assert [c.outcome for c in calls if c.params["chat_id"] == hung] == ["hang", "ok"]
    assert [c.outcome for c in calls if c.params["chat_id"] == flaky] == ["500", "ok"]
    # 429s do not use up tries.
    assert db.query("SELECT attempts FROM deliveries WHERE chat_id = ?", (throttled,))[0][0] == 1

    info = get_broadcast(db, broadcast_id)
    assert info is not None and info.state == DONE and info.reported_at is not None
    report = api.sent_texts(REPORT_CHAT)[-1]
    assert sum("用时" in text for text in api.sent_texts(REPORT_CHAT)) == 1  # reported once
    assert f"广播 #{broadcast_id} 完成" in report
    assert "已发送 27" in report and "屏蔽了机器人 1" in report and "失败 2" in report
    assert "用时" in report


async def test_progress_message_is_edited_then_closed(api: FakeBotApi, bot: Bot, db: Database) -> None:
    add_subscribers(db, dict.fromkeys(range(100, 130), STREET))
    broadcast_id = queue(db)
    sender = BroadcastSender(db, bot, settings(rate=20.0))
    await run_until_idle(sender)
    first = api.sent_messages(REPORT_CHAT)[0]
    assert "广播" in first["text"]
    edits = [c for c in api.calls("editMessageText") if c.params["chat_id"] == REPORT_CHAT]
    assert len(edits) >= 3  # 1.5 s of sending, an edit every 0.2 s when the numbers change
    assert any("已发送" in str(c.params["text"]) and "/ 30" in str(c.params["text"]) for c in edits)
    info = get_broadcast(db, broadcast_id)
    assert info is not None
    progress = api.message(REPORT_CHAT, info.progress_message_id or 0)
    assert progress is not None and "完成" in progress["text"]


async def test_two_broadcasts_respect_the_per_chat_interval(api: FakeBotApi, bot: Bot, db: Database) -> None:
    add_subscribers(db, {7: "*", 8: "*"})
    queue(db, "issue-a", STREET, report=None)
    queue(db, "issue-b", "花木街道", report=None)
    sender = BroadcastSender(db, bot, settings(rate=500.0, per_chat=1.0))
    await run_until_idle(sender)
    for chat in (7, 8):
        times = [c.time for c in api.calls("sendMessage") if c.params["chat_id"] == chat]
        assert len(times) == 2
        # Arrival times at the server, on the sender's own clock: the sender waits a full interval
        # after the first answer came back, so no transit time or load can shorten the gap.
        assert times[1] - times[0] >= 1.0


async def test_overall_rate_is_paced(api: FakeBotApi, bot: Bot, db: Database) -> None:
    add_subscribers(db, dict.fromkeys(range(1, 61), STREET))
    queue(db, report=None)
    started = time.monotonic()
    await run_until_idle(BroadcastSender(db, bot, settings(rate=40.0)))
    # A lower bound only: 60 slots 1/40 s apart cannot pass quicker, and a slow machine only adds time.
    assert time.monotonic() - started >= 59 / 40
    times = sorted(c.time for c in api.calls("sendMessage"))
    # Slots leave the sender evenly spaced (at most rate + 1 in a second); on a loaded machine the
    # requests in flight (at most `concurrency` of them) can reach the server bunched together.
    in_flight = BroadcastSender(db, bot, settings(rate=40.0)).concurrency
    assert max(sum(1 for t in times if start <= t < start + 1.0) for start in times) <= 41 + in_flight


async def test_crash_leftovers_are_reported_not_resent(api: FakeBotApi, bot: Bot, db: Database) -> None:
    add_subscribers(db, dict.fromkeys(range(1, 6), STREET))
    broadcast_id = queue(db)
    # What a crash between "sending" and "sent" leaves: the request may or may not have arrived.
    db.execute("UPDATE deliveries SET state = ?, attempts = 1 WHERE chat_id = 3", (SENDING,))
    db.execute("UPDATE deliveries SET state = ?, message_id = 9 WHERE chat_id = 4", (SENT,))
    await run_until_idle(BroadcastSender(db, bot, settings()))
    assert copies(api) == {1: 1, 2: 1, 5: 1}
    final = states(db, broadcast_id)
    assert final[3] == UNKNOWN and final[4] == SENT
    report = api.sent_texts(REPORT_CHAT)[-1]
    assert "可能已送达 1" in report and "已发送 4" in report


async def test_subscriber_who_left_before_their_turn_is_skipped(api: FakeBotApi, bot: Bot, db: Database) -> None:
    add_subscribers(db, {1: STREET, 2: STREET})
    broadcast_id = queue(db, report=None)
    db.execute("UPDATE subscribers SET active = 0 WHERE chat_id = 2")
    await run_until_idle(BroadcastSender(db, bot, settings()))
    assert copies(api) == {1: 1}
    assert states(db, broadcast_id) == {1: SENT, 2: SKIPPED}


async def test_clean_stop_leaves_nothing_in_flight_and_restart_finishes(
    api: FakeBotApi, bot: Bot, db: Database
) -> None:
    chats = list(range(1, 41))
    add_subscribers(db, dict.fromkeys(chats, STREET))
    broadcast_id = queue(db, report=None)
    sender = BroadcastSender(db, bot, settings(rate=20.0))
    sender.start()
    await api.wait_for_async(lambda: len(api.sent_messages()) >= 10, timeout=30)
    await sender.stop()
    counts = counts_of(db, broadcast_id)
    assert counts.sending == 0 and counts.unknown == 0
    assert 10 <= counts.sent < 40 and counts.pending == 40 - counts.sent
    await run_until_idle(BroadcastSender(db, bot, settings(rate=200.0)))
    assert copies(api) == dict.fromkeys(chats, 1)
    assert counts_of(db, broadcast_id).sent == 40


async def test_unreachable_staff_chat_does_not_hold_up_the_broadcast(api: FakeBotApi, bot: Bot, db: Database) -> None:
    add_subscribers(db, dict.fromkeys(range(1, 11), STREET))
    api.block_chat(REPORT_CHAT)
    broadcast_id = queue(db)
    await run_until_idle(BroadcastSender(db, bot, settings(rate=50.0)))
    assert copies(api) == dict.fromkeys(range(1, 11), 1)
    info = get_broadcast(db, broadcast_id)
    assert info is not None and info.state == DONE and info.reported_at is not None
    tries = [c for c in api.calls() if c.params.get("chat_id") == REPORT_CHAT]
    assert [c.outcome for c in tries] == ["403", "403"]  # the progress message once, the report once


async def test_sender_survives_a_database_hiccup(api: FakeBotApi, bot: Bot, db: Database) -> None:
    add_subscribers(db, dict.fromkeys(range(1, 4), STREET))
    queue(db, report=None)
    sender = BroadcastSender(db, bot, settings(), poll_interval=0.1)
    real_claim = sender._claim_next
    failures = []

    def locked_once() -> Any:
        if not failures:
            failures.append(1)
            raise sqlite3.OperationalError("database is locked")
        return real_claim()

    sender._claim_next = locked_once  # type: ignore[method-assign]
    await run_until_idle(sender)
    assert failures == [1]
    assert copies(api) == {1: 1, 2: 1, 3: 1}


async def test_bot_restarted_mid_broadcast_finishes_it_exactly_once(tmp_path: Path, api: FakeBotApi) -> None:
    settings = make_settings(tmp_path, api, rate=60.0)
    services = make_services(settings)
    chats = list(range(3000, 3090))
    add_subscribers(services.db, dict.fromkeys(chats, STREET))
    broadcast_id = queue(services.db, report=REPORT_CHAT)
    async with running_bot(services, api):
        await api.wait_for_async(lambda: len(copies(api)) >= 30, timeout=30)
    db = Database(settings.state_db)
    halfway = counts_of(db, broadcast_id)
    # A clean stop lets the sends in flight finish: nothing is left uncertain.
    assert halfway.sending == 0 and halfway.unknown == 0 and halfway.pending > 0
    async with running_bot(make_services(settings), api):
        await api.wait_for_async(lambda: "用时" in (api.sent_texts(REPORT_CHAT) or [""])[-1], timeout=30)
    assert copies(api) == dict.fromkeys(chats, 1)
    assert counts_of(db, broadcast_id).sent == len(chats)
    info = get_broadcast(db, broadcast_id)
    assert info is not None and info.progress_message_id is not None
    # The second run kept editing the first run's progress message.
    progress = [c for c in api.calls("sendMessage") if c.params["chat_id"] == REPORT_CHAT]
    assert len(progress) == 2  # the progress message and the final report
    db.close()


async def test_paid_broadcast_switch_is_sent_only_when_enabled(api: FakeBotApi, bot: Bot, db: Database) -> None:
    add_subscribers(db, dict.fromkeys(range(1, 4), STREET))
    queue(db, "free", report=None)
    await run_until_idle(BroadcastSender(db, bot, settings()))
    assert [c.params.get("allow_paid_broadcast") for c in api.calls("sendMessage")] == [None] * 3
    api.clear_calls()
    queue(db, "paid", report=None)
    paid = dataclasses.replace(settings(per_chat=0.0), allow_paid_broadcast=True)
    await run_until_idle(BroadcastSender(db, bot, paid))
    assert [c.params.get("allow_paid_broadcast") for c in api.calls("sendMessage")] == [True] * 3
