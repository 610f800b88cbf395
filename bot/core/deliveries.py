"""What became of each broadcast delivery, in the state database: outcomes recorded, finished
broadcasts closed, and the staff chats still owed a report.

The sender (`bot.edge.sender`) claims a delivery (`bot.core.broadcast_claims`), sends it, and
hands Telegram's answer here as an `Outcome`. Called from worker threads.
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from bot.core.broadcasts import DONE, FAILED, PENDING, SENDING, BroadcastInfo, counts_of, info_from_row
from bot.core.state import Database

log = logging.getLogger(__name__)

# A chat answering 429 this many times in a row for one broadcast is given up on.
MAX_THROTTLED = 10


@dataclass(frozen=True)
class Outcome:
    """What Telegram answered to one message (or what went wrong before it could)."""

    state: str
    message_id: int | None = None
    error: str = ""
    retry_at: float | None = None
    throttled: bool = False
    blocked: bool = False


def record(db: Database, broadcast_id: int, chat_id: int, outcome: Outcome, max_attempts: int) -> None:
    """Record what Telegram answered for one claimed ('sending') delivery.

    A retry (429, timeout, network) puts it back to 'pending' for later, unless its tries are
    used up; a 403 also marks the subscriber inactive.
    """
    now = time.time()
    key = (broadcast_id, chat_id, SENDING)
    with db.transaction() as conn:
        if outcome.state == PENDING:
            row = conn.execute(
                "SELECT attempts, throttled FROM deliveries WHERE broadcast_id = ? AND chat_id = ?", key[:2]
            ).fetchone()
            attempts, throttled = (int(row[0]), int(row[1])) if row else (0, 0)
            if outcome.throttled:
                # Telegram said when to come back: that is not a failed attempt.
                attempts, throttled = attempts - 1, throttled + 1
                give_up = throttled > MAX_THROTTLED
            else:
                give_up = attempts >= max_attempts
            if give_up:
                outcome = Outcome(FAILED, error=f"gave up after {attempts} tries: {outcome.error}")
            else:
                conn.execute(
                    "UPDATE deliveries SET state = ?, attempts = ?, throttled = ?, next_at = ?, error = ?, "
                    "updated_at = ? WHERE broadcast_id = ? AND chat_id = ? AND state = ?",
                    (PENDING, attempts, throttled, outcome.retry_at or now, outcome.error, now, *key),
                )
                return
        conn.execute(
            "UPDATE deliveries SET state = ?, message_id = ?, error = ?, updated_at = ? "
            "WHERE broadcast_id = ? AND chat_id = ? AND state = ?",
            (outcome.state, outcome.message_id, outcome.error or None, now, *key),
        )
        if outcome.blocked:
            conn.execute(
                "UPDATE subscribers SET active = 0, blocked_at = ?, updated_at = ? WHERE chat_id = ?",
                (now, now, chat_id),
            )


def finish_completed(db: Database) -> list[int]:
    """Mark broadcasts with nothing left to send as done; returns their ids."""
    now = time.time()
    finished = []
    with db.transaction() as conn:
        rows = conn.execute(
            "SELECT id FROM broadcasts b WHERE state != ? AND NOT EXISTS (SELECT 1 FROM deliveries d "
            "WHERE d.broadcast_id = b.id AND d.state IN (?, ?))",
            (DONE, PENDING, SENDING),
        ).fetchall()
        for row in rows:
            conn.execute(
                "UPDATE broadcasts SET state = ?, finished_at = ?, started_at = COALESCE(started_at, ?) WHERE id = ?",
                (DONE, now, now, row[0]),
            )
            finished.append(int(row[0]))
    for broadcast_id in finished:
        log.info("broadcast %s finished: %s", broadcast_id, counts_of(db, broadcast_id))
    return finished


def idle(db: Database) -> bool:
    """Whether no broadcast is sending or waiting for its report to staff."""
    row = db.query(
        "SELECT COUNT(*) FROM broadcasts WHERE state != ? OR (report_chat_id IS NOT NULL AND reported_at IS NULL)",
        (DONE,),
    )[0]
    return int(row[0]) == 0


def next_due_at(db: Database) -> float | None:
    """When the earliest pending delivery is due (epoch seconds), if any."""
    row = db.query("SELECT MIN(next_at) FROM deliveries WHERE state = ?", (PENDING,))[0]
    return None if row[0] is None else float(row[0])


def attempts(db: Database, broadcast_id: int, chat_id: int) -> int:
    """How many times the delivery was tried."""
    rows = db.query("SELECT attempts FROM deliveries WHERE broadcast_id = ? AND chat_id = ?", (broadcast_id, chat_id))
    return int(rows[0][0]) if rows else 0


def reportable(db: Database) -> list[BroadcastInfo]:
    """Broadcasts whose staff chat is still owed a progress message or the final report."""
    rows = db.query("SELECT * FROM broadcasts WHERE report_chat_id IS NOT NULL AND reported_at IS NULL ORDER BY id")
    return [info_from_row(db, r) for r in rows]


def set_progress_message(db: Database, broadcast_id: int, message_id: int) -> None:
    db.execute("UPDATE broadcasts SET progress_message_id = ? WHERE id = ?", (message_id, broadcast_id))


def set_reported(db: Database, broadcast_id: int) -> None:
    db.execute("UPDATE broadcasts SET reported_at = ? WHERE id = ?", (time.time(), broadcast_id))
