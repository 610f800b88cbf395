"""The broadcast queue's shared side: send slots, claims and worker liveness, in the database.

Several bot workers on one PostgreSQL database send one broadcast together (one SQLite process
does the same alone). Everything they must agree on lives in the database, not in a process:

- The pace: one `send_pace` row hands out evenly spaced slots (at most `messages_per_second` in
  all, however many workers), reserved in a transaction that locks the row.
- The next delivery: claimed with `SELECT ... FOR UPDATE SKIP LOCKED`, so workers take different
  rows without waiting on each other; the subscriber row is locked too, so two workers never
  message one chat within `per_chat_interval` (two broadcasts at once).
- Liveness: each worker's heartbeat in `workers`. A delivery left 'sending' by a worker whose
  heartbeat stopped (SIGKILL, power loss) becomes 'unknown', as after a crash of the only process.
  One live worker (the longest running) reports progress to staff, so no report goes twice.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from bot.core.broadcasts import PENDING, QUEUED, RUNNING, SENDING, SENT, SKIPPED, UNKNOWN
from bot.core.state import Database

INTERRUPTED = "bot stopped while sending; not resent because it may have arrived"
# A worker whose heartbeat is older than this is taken for dead (it beats every HEARTBEAT_EVERY).
WORKER_TIMEOUT = 15.0
HEARTBEAT_EVERY = 2.0
# Deliveries looked at in one claim before giving the turn back (skipped or postponed ones).
CLAIM_LOOKAHEAD = 20


@dataclass(frozen=True)
class Claimed:
    """A delivery this worker now owns ('sending'), with what to send."""

    broadcast_id: int
    chat_id: int
    text: str
    markup: str | None


def reserve_slot(db: Database, rate: float, now: float | None = None) -> float:
    """The time (epoch seconds) of the next free send slot, taken for the caller.

    Slots are 1/rate apart across all workers; idle time is not saved up into a burst.
    """
    if rate <= 0:
        raise ValueError("rate must be positive")
    now = time.time() if now is None else now
    with db.transaction() as conn:
        row = conn.execute(f"SELECT next_at FROM send_pace WHERE id = 1{db.for_update}").fetchone()
        slot = max(now, float(row[0]) if row else 0.0)
        conn.execute("UPDATE send_pace SET next_at = ? WHERE id = 1", (slot + 1.0 / rate,))
    return slot


def claim_next(db: Database, worker: str, per_chat_interval: float, now: float | None = None) -> Claimed | None:
    """Claim the next due delivery for `worker` (committed before any byte goes to Telegram).

    Deliveries to chats that left are marked 'skipped'; ones to a chat messaged less than
    `per_chat_interval` ago (by any worker, for another broadcast) wait until it has passed.
    None when nothing is due now.
    """
    now = time.time() if now is None else now
    with db.transaction() as conn:
        for _ in range(CLAIM_LOOKAHEAD):
            row = conn.execute(
                "SELECT broadcast_id, chat_id FROM deliveries WHERE state = ? AND next_at <= ? "
                f"ORDER BY broadcast_id, next_at, chat_id LIMIT 1{db.skip_locked}",
                (PENDING, now),
            ).fetchone()
            if row is None:
                return None
            broadcast_id, chat_id = int(row[0]), int(row[1])
            key = (broadcast_id, chat_id, PENDING)
            # Locked, not waited for: another worker is claiming a message to this chat right now
            # (and waiting here could deadlock with it), so this one waits its per-chat interval.
            active = conn.execute(
                f"SELECT active FROM subscribers WHERE chat_id = ?{db.skip_locked}", (chat_id,)
            ).fetchone()
            if active is None and db.skip_locked:
                exists = conn.execute("SELECT 1 FROM subscribers WHERE chat_id = ?", (chat_id,)).fetchone()
                if exists:
                    conn.execute(
                        "UPDATE deliveries SET next_at = ? WHERE broadcast_id = ? AND chat_id = ? AND state = ?",
                        (now + per_chat_interval, *key),
                    )
                    continue
            if not active or not active[0]:
                conn.execute(
                    "UPDATE deliveries SET state = ?, updated_at = ?, error = 'not subscribed any more' "
                    "WHERE broadcast_id = ? AND chat_id = ? AND state = ?",
                    (SKIPPED, now, *key),
                )
                continue
            # The interval counts from when the last message's answer came back ('sent' rows are
            # updated then), so it holds where Telegram counts it whatever the transit time; one
            # still in flight holds the next back a full interval from now.
            in_flight, last = conn.execute(
                "SELECT MAX(CASE WHEN state = ? THEN 1 ELSE 0 END), MAX(updated_at) FROM deliveries "
                "WHERE chat_id = ? AND broadcast_id != ? AND state IN (?, ?)",
                (SENDING, chat_id, broadcast_id, SENDING, SENT),
            ).fetchone()
            gate = 0.0 if last is None else float(last) + per_chat_interval
            if in_flight:
                gate = max(gate, now + per_chat_interval)
            if gate > now:
                conn.execute(
                    "UPDATE deliveries SET next_at = ? WHERE broadcast_id = ? AND chat_id = ? AND state = ?",
                    (gate, *key),
                )
                continue
            conn.execute(
                "UPDATE deliveries SET state = ?, attempts = attempts + 1, updated_at = ?, claimed_by = ? "
                "WHERE broadcast_id = ? AND chat_id = ? AND state = ?",
                (SENDING, now, worker, *key),
            )
            conn.execute(
                "UPDATE broadcasts SET state = ?, started_at = COALESCE(started_at, ?) WHERE id = ? AND state = ?",
                (RUNNING, now, broadcast_id, QUEUED),
            )
            text, markup = conn.execute("SELECT text, markup FROM broadcasts WHERE id = ?", (broadcast_id,)).fetchone()
            return Claimed(broadcast_id, chat_id, str(text), markup)
    return None


def heartbeat(db: Database, worker: str, started_at: float, now: float | None = None) -> None:
    """Record that `worker` is alive (and forget workers dead for long)."""
    now = time.time() if now is None else now
    with db.transaction() as conn:
        conn.execute(
            "INSERT INTO workers (id, started_at, seen_at) VALUES (?, ?, ?) "
            "ON CONFLICT (id) DO UPDATE SET seen_at = excluded.seen_at",
            (worker, started_at, now),
        )
        conn.execute("DELETE FROM workers WHERE seen_at < ?", (now - 100 * WORKER_TIMEOUT,))


def leave(db: Database, worker: str) -> None:
    """A clean stop: the worker is gone (its deliveries in flight have finished)."""
    db.execute("DELETE FROM workers WHERE id = ?", (worker,))


def recover_orphans(db: Database, worker: str, others_alive: bool, now: float | None = None) -> int:
    """Mark deliveries left 'sending' by dead workers 'unknown'; returns how many.

    With `others_alive` False (SQLite: this process is the only sender) every claim but this
    worker's is an orphan; otherwise only those of workers whose heartbeat stopped.
    """
    now = time.time() if now is None else now
    if not others_alive:
        cursor = db.execute(
            "UPDATE deliveries SET state = ?, error = ? WHERE state = ? AND (claimed_by IS NULL OR claimed_by != ?)",
            (UNKNOWN, INTERRUPTED, SENDING, worker),
        )
        return int(cursor.rowcount or 0)
    cursor = db.execute(
        "UPDATE deliveries SET state = ?, error = ? WHERE state = ? AND (updated_at IS NULL OR updated_at < ?) AND "
        "(claimed_by IS NULL OR claimed_by NOT IN (SELECT id FROM workers WHERE seen_at >= ?))",
        (UNKNOWN, INTERRUPTED, SENDING, now - WORKER_TIMEOUT, now - WORKER_TIMEOUT),
    )
    return int(cursor.rowcount or 0)


def is_reporter(db: Database, worker: str, now: float | None = None) -> bool:
    """Whether `worker` is the live worker that reports progress to staff (the longest running)."""
    now = time.time() if now is None else now
    rows = db.query(
        "SELECT id FROM workers WHERE seen_at >= ? ORDER BY started_at, id LIMIT 1", (now - WORKER_TIMEOUT,)
    )
    return not rows or str(rows[0][0]) == worker
