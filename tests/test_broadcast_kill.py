"""A broadcast to 2,000 subscribers survives a SIGKILL half way: exactly one copy each.

The sender runs in a subprocess (tests/broadcast_worker.py) at the production pace (25/s),
against the fake Bot API in this process, with 429s, 403s, blocked chats, 500s and timeouts
injected. When the server has received about 1,000 messages it stops answering: every send in
flight then waits for Telegram's reply, which is where a real crash almost always finds a
sender (the round trip is the long part). Once all of the sender's workers are waiting, the
test SIGKILLs it, lets the server finish those requests (delivered, as Telegram would), and
starts the sender again. Stopping the server's answers first is what makes the test
deterministic: without it, the kill could land in the microseconds between a row's commit and
its request leaving, a case covered on its own by
test_broadcast.test_crash_leftovers_are_reported_not_resent.
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
from bots import TOKEN, add_subscribers, max_in_one_second
from configs import ADMIN
from corpora import ROOT
from fake_bot_api import FakeBotApi

from bot.core.broadcasts import BLOCKED, DONE, SENT, UNKNOWN, queue_broadcast
from bot.core.publishing import recipients_for
from bot.core.state import Database

WORKER = Path(__file__).with_name("broadcast_worker.py")
STREET = "天山路街道"
SUBSCRIBERS = 2000
KILL_AT = 1000
CONCURRENCY = 4
FIRST_CHAT = 200_000


class CrashWindowApi(FakeBotApi):
    """The fake Bot API, noting when each message arrives, and able to stop answering messages."""

    def __init__(self, hold_from: int, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.hold_from = hold_from
        self.arrivals: list[float] = []
        self.messages = 0
        self.held = 0
        self.release = threading.Event()
        self._arrival_lock = threading.Lock()

    def dispatch(self, token: str, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        if method.lower() in ("sendmessage", "editmessagetext"):
            with self._arrival_lock:
                self.arrivals.append(time.time())
                if method.lower() == "sendmessage":
                    self.messages += 1
                    hold = self.messages >= self.hold_from and not self.release.is_set()
                    self.held += hold
                else:
                    hold = False
            if hold:
                self.release.wait(timeout=120)
        return super().dispatch(token, method, params)


def start_worker(api: FakeBotApi, db_path: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [
            sys.executable,
            str(WORKER),
            "--db",
            str(db_path),
            "--token",
            TOKEN,
            "--base-url",
            api.base_url,
            "--base-file-url",
            api.base_file_url,
            "--rate",
            "25",
            "--concurrency",
            str(CONCURRENCY),
            "--timeout",
            "1.0",
            "--backoff",
            "0.2",
        ],
        cwd=ROOT,
    )


@pytest.mark.slow
def test_broadcast_survives_a_kill_half_way(tmp_path: Path) -> None:
    db_path = tmp_path / "state.sqlite3"
    db = Database(db_path)
    chats = [FIRST_CHAT + i for i in range(SUBSCRIBERS)]
    add_subscribers(db, {c: ("*" if i % 7 == 0 else STREET) for i, c in enumerate(chats)})
    others = [FIRST_CHAT + SUBSCRIBERS + i for i in range(50)]
    add_subscribers(db, dict.fromkeys(others, "花木街道"))
    former = [FIRST_CHAT + SUBSCRIBERS + 100 + i for i in range(20)]
    add_subscribers(db, dict.fromkeys(former, STREET), active=False)

    # Faults well before and after the crash window (sends ~1000-1004), so the crash finds plain sends.
    early, late = chats[40:800], chats[1250:1990]
    fault_chats = early[::10] + late[::10]  # 76 + 74 chats
    blocked = fault_chats[0::5]
    refused_once = fault_chats[1::5]
    throttled = fault_chats[2::5]
    flaky = fault_chats[3::5]
    hung = fault_chats[4::5][:8]

    with CrashWindowApi(hold_from=KILL_AT, hang_seconds=1.5) as api:
        for chat in blocked:
            api.block_chat(chat)
        for chat in refused_once:
            api.fail_next("sendMessage", "403", chat_id=chat)
        for chat in throttled:
            api.fail_next("sendMessage", "429", retry_after=1, chat_id=chat)
        for chat in flaky:
            api.fail_next("sendMessage", "500", count=2, chat_id=chat)
        for chat in hung:
            api.fail_next("sendMessage", "hang", chat_id=chat)
        broadcast_id, queued = queue_broadcast(
            db,
            "kill-test",
            STREET,
            "天山社区晨报 2020年7月",
            "<b>天山社区晨报</b> 新一期",
            recipients_for(db, STREET),
            created_by=ADMIN,
            report_chat_id=ADMIN,
        )
        assert queued == SUBSCRIBERS

        first = start_worker(api, db_path)
        try:
            # Every worker is now waiting for an answer to a message the server has received.
            api.wait_for(lambda: api.held >= CONCURRENCY, timeout=120, message="the crash window")
            # No more than CONCURRENCY in flight: checked below from the worker's own 'sending' rows,
            # which it writes before each request (the server may still be reading one after the kill).
            assert api.held == CONCURRENCY
            first.send_signal(signal.SIGKILL)
            assert first.wait(timeout=10) == -signal.SIGKILL
        finally:
            if first.poll() is None:
                first.kill()
        in_flight = {int(r[0]) for r in db.query("SELECT chat_id FROM deliveries WHERE state = 'sending'")}
        assert len(in_flight) == CONCURRENCY
        sent_before = len(db.query("SELECT 1 FROM deliveries WHERE state = 'sent'"))
        assert 800 <= sent_before < KILL_AT
        api.release.set()  # Telegram delivers what it received; the dead process never hears back.

        second = start_worker(api, db_path)
        try:
            assert second.wait(timeout=150) == 0
        finally:
            if second.poll() is None:
                second.kill()

        calls = api.calls("sendMessage")
        got = Counter(int(c.params["chat_id"]) for c in calls if c.ok and c.params["chat_id"] != ADMIN)
        arrivals = list(api.arrivals)

    gone = set(blocked) | set(refused_once)
    for chat in chats:
        assert got[chat] == (0 if chat in gone else 1), chat
    assert not any(got[c] for c in others + former)
    assert sum(got.values()) == SUBSCRIBERS - len(gone)

    final = {int(r[0]): str(r[1]) for r in db.query("SELECT chat_id, state FROM deliveries")}
    assert {final[c] for c in gone} == {BLOCKED}
    assert {c for c, s in final.items() if s == UNKNOWN} == in_flight  # arrived, and not sent twice
    assert {final[c] for c in chats if c not in gone and c not in in_flight} == {SENT}
    inactive = {int(r[0]) for r in db.query("SELECT chat_id FROM subscribers WHERE active = 0 AND blocked_at > 0")}
    assert inactive == gone
    assert all(db.query("SELECT active FROM subscribers WHERE chat_id = ?", (c,))[0][0] == 1 for c in throttled)

    by_chat: dict[int, list[str]] = {}
    for call in calls:
        by_chat.setdefault(int(call.params["chat_id"]), []).append(call.outcome)
    assert all(by_chat[c] == ["429", "ok"] for c in throttled)
    assert all(by_chat[c] == ["500", "500", "ok"] for c in flaky)
    assert all(by_chat[c] == ["hang", "ok"] for c in hung)

    # Paced at 25 a second (messages and progress edits share the slots, +1 for a window's two
    # ends); on a loaded machine the requests still in flight (CONCURRENCY sends and one edit) can
    # reach the server bunched into the same second.
    assert max_in_one_second(arrivals) <= 25 + 1 + CONCURRENCY + 1
    # The second run did the other half.
    killed_at = max(c.time for c in calls if c.params["chat_id"] in in_flight)
    assert len([c for c in calls if c.time > killed_at]) > 900

    row = db.query("SELECT state, reported_at, progress_message_id FROM broadcasts WHERE id = ?", (broadcast_id,))[0]
    assert row["state"] == DONE and row["reported_at"] is not None
    reports = [c.params["text"] for c in calls if c.params["chat_id"] == ADMIN and "用时" in c.params["text"]]
    assert len(reports) == 1
    report = reports[0]
    assert f"已发送 {SUBSCRIBERS - len(gone) - CONCURRENCY:,}" in report
    assert f"可能已送达 {CONCURRENCY}" in report and f"屏蔽了机器人 {len(gone)}" in report
    db.close()
