"""Durable broadcasts of new issues to subscribers: the queue, its states and its counts.

The queue lives in the state database (`broadcasts`, `deliveries`; migration 004_broadcasts): one
row per subscriber per broadcast, so a broadcast survives crashes and restarts and nobody can be
queued twice for it. A delivery row moves through these states:

    pending ──claim──> sending ──> sent       (Telegram answered with the message)
                          │  ├───> blocked    (403: the subscriber is marked inactive)
                          │  ├───> failed     (permanent error, or retries used up)
                          │  └───> pending    (429: after its retry_after; timeout/network: back-off)
                          └─(crash)─> unknown (found in 'sending' at start-up)
    pending ──> skipped                       (the subscriber left before their turn came)

The sender that moves rows along, and why it never resends an 'unknown' row, is
`bot.edge.sender`. Staff's wording of broadcasts (progress, reports, lists) is `bot.core.staff_texts`.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from bot.core.state import Database

log = logging.getLogger(__name__)

log = logging.getLogger(__name__)

PENDING, SENDING, SENT, BLOCKED, FAILED, UNKNOWN, SKIPPED = (
    "pending",
    "sending",
    "sent",
    "blocked",
    "failed",
    "unknown",
    "skipped",
)
FINAL_STATES = (SENT, BLOCKED, FAILED, UNKNOWN, SKIPPED)
# Broadcast states.
QUEUED, RUNNING, DONE = "queued", "sending", "done"


class AlreadyBroadcast(ValueError):
    """The issue was broadcast (or queued) before; each issue goes out once."""


@dataclass(frozen=True)
class Counts:
    """Deliveries of one broadcast by state."""

    total: int = 0
    pending: int = 0
    sending: int = 0
    sent: int = 0
    blocked: int = 0
    failed: int = 0
    unknown: int = 0
    skipped: int = 0

    @property
    def finished(self) -> bool:
        """Whether no delivery is waiting or in flight."""
        return self.pending == 0 and self.sending == 0

    @property
    def handled(self) -> int:
        """Deliveries that reached a final state."""
        return self.sent + self.blocked + self.failed + self.unknown + self.skipped


@dataclass(frozen=True)
class BroadcastInfo:
    """One row of `broadcasts` with its delivery counts."""

    id: int
    issue_id: str
    street: str
    title: str
    state: str
    total: int
    created_at: float
    created_by: int | None
    report_chat_id: int | None
    progress_message_id: int | None
    started_at: float | None
    finished_at: float | None
    reported_at: float | None
    counts: Counts

    @property
    def duration(self) -> float:
        """Seconds from the first send to the end (or to now while running)."""
        if self.started_at is None:
            return 0.0
        return max(0.0, (self.finished_at or time.time()) - self.started_at)


# --- the queue ------------------------------------------------------------------------


def queue_broadcast(
    db: Database,
    issue_id: str,
    street: str,
    title: str,
    text: str,
    recipients: Iterable[int],
    created_by: int | None = None,
    report_chat_id: int | None = None,
    markup: str | None = None,
) -> tuple[int, int]:
    """Queue a broadcast and one delivery per recipient, atomically: (broadcast id, recipients).

    `markup` is the inline keyboard sent with every message, as Telegram's JSON.
    """
    chats = list(dict.fromkeys(int(c) for c in recipients))
    now = time.time()
    with db.transaction() as conn:
        if conn.execute("SELECT 1 FROM broadcasts WHERE issue_id = ?", (issue_id,)).fetchone():
            raise AlreadyBroadcast(f"issue {issue_id} was already broadcast")
        broadcast_id = conn.execute(
            "INSERT INTO broadcasts (issue_id, street, title, text, created_at, created_by, report_chat_id, state, "
            "total, markup) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id",
            (issue_id, street, title, text, now, created_by, report_chat_id, QUEUED, len(chats), markup),
        ).fetchall()[0][0]
        conn.executemany(
            "INSERT INTO deliveries (broadcast_id, chat_id, state, next_at) VALUES (?, ?, ?, 0)",
            [(broadcast_id, chat, PENDING) for chat in chats],
        )
        if not chats:
            conn.execute("UPDATE broadcasts SET state = ?, finished_at = ? WHERE id = ?", (DONE, now, broadcast_id))
    log.info("broadcast %s of %s queued for %d chats", broadcast_id, issue_id, len(chats))
    return int(broadcast_id), len(chats)


def counts_of(db: Database, broadcast_id: int) -> Counts:
    """How the deliveries of one broadcast stand."""
    rows = db.query("SELECT state, COUNT(*) FROM deliveries WHERE broadcast_id = ? GROUP BY state", (broadcast_id,))
    by_state = {str(r[0]): int(r[1]) for r in rows}
    return Counts(total=sum(by_state.values()), **{k: v for k, v in by_state.items() if k in Counts.__annotations__})


def info_from_row(db: Database, row: Any) -> BroadcastInfo:
    return BroadcastInfo(
        id=int(row["id"]),
        issue_id=str(row["issue_id"]),
        street=str(row["street"]),
        title=str(row["title"]),
        state=str(row["state"]),
        total=int(row["total"]),
        created_at=float(row["created_at"]),
        created_by=row["created_by"],
        report_chat_id=row["report_chat_id"],
        progress_message_id=row["progress_message_id"],
        started_at=row["started_at"],
        finished_at=row["finished_at"],
        reported_at=row["reported_at"],
        counts=counts_of(db, int(row["id"])),
    )


def get_broadcast(db: Database, broadcast_id: int) -> BroadcastInfo | None:
    """One broadcast, or None."""
    rows = db.query("SELECT * FROM broadcasts WHERE id = ?", (broadcast_id,))
    return info_from_row(db, rows[0]) if rows else None


def recent_broadcasts(db: Database, limit: int = 10) -> list[BroadcastInfo]:
    """The newest broadcasts first."""
    return [info_from_row(db, r) for r in db.query("SELECT * FROM broadcasts ORDER BY id DESC LIMIT ?", (limit,))]
