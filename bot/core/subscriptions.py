"""Residents' subscriptions and the query log, over the tables of `bot.core.state` migrations
001_subscribers and 002_query_log.

A chat is subscribed to streets (exact names as the index spells them) or to every street,
stored as the street `ALL_STREETS`. Unsubscribing from everything keeps the `subscribers` row
with `active = 0`, so staff can tell former subscribers from people who never subscribed.
These functions block on SQLite; call them from a worker thread inside the bot.
"""

from __future__ import annotations

import secrets
import time
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from bot.core.state import INTEGRITY_ERRORS, Database

ALL_STREETS = "*"
# Longer questions are cut before they are stored (Telegram messages are at most 4096 characters).
MAX_LOGGED_QUESTION = 4096
# Query-log ids are drawn at random from this many bits (they fit a button's 64 bytes).
QUERY_ID_BITS = 48


@dataclass(frozen=True)
class ChatSubscription:
    """What one chat is subscribed to."""

    chat_id: int
    active: bool = False
    since: float | None = None
    streets: tuple[str, ...] = ()

    @property
    def all_streets(self) -> bool:
        """True when the chat gets every street's issues."""
        return ALL_STREETS in self.streets


@dataclass(frozen=True)
class SubscribeOutcome:
    """What `subscribe` changed: the streets newly added, and the resulting subscription."""

    added: tuple[str, ...]
    subscription: ChatSubscription


def subscription_of(db: Database, chat_id: int) -> ChatSubscription:
    """The chat's subscription (inactive and empty when it never subscribed)."""
    rows = db.query("SELECT active, since FROM subscribers WHERE chat_id = ?", (chat_id,))
    if not rows:
        return ChatSubscription(chat_id)
    streets = [
        r[0] for r in db.query("SELECT street FROM subscriptions WHERE chat_id = ? ORDER BY since, street", (chat_id,))
    ]
    return ChatSubscription(chat_id, bool(rows[0]["active"]), float(rows[0]["since"]), tuple(streets))


def subscribe(db: Database, chat_id: int, streets: Iterable[str], now: float | None = None) -> SubscribeOutcome:
    """Subscribe the chat to `streets` (`ALL_STREETS` for all); reactivates a former subscriber."""
    now = time.time() if now is None else now
    wanted = list(dict.fromkeys(s for s in streets if s))
    added: list[str] = []
    with db.transaction() as conn:
        row = conn.execute("SELECT active FROM subscribers WHERE chat_id = ?", (chat_id,)).fetchone()
        if row is None:
            conn.execute(
                "INSERT INTO subscribers (chat_id, since, active, blocked_at, updated_at) VALUES (?, ?, 1, NULL, ?)",
                (chat_id, now, now),
            )
        elif not row[0]:
            conn.execute(
                "UPDATE subscribers SET active = 1, since = ?, blocked_at = NULL, updated_at = ? WHERE chat_id = ?",
                (now, now, chat_id),
            )
        else:
            conn.execute("UPDATE subscribers SET blocked_at = NULL, updated_at = ? WHERE chat_id = ?", (now, chat_id))
        if ALL_STREETS in wanted:
            # "All" replaces single streets, so a later "unsubscribe all" leaves nothing behind.
            conn.execute("DELETE FROM subscriptions WHERE chat_id = ? AND street != ?", (chat_id, ALL_STREETS))
            wanted = [ALL_STREETS]
        for street in wanted:
            cursor = conn.execute(
                "INSERT INTO subscriptions (chat_id, street, since) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                (chat_id, street, now),
            )
            if cursor.rowcount:
                added.append(street)
    return SubscribeOutcome(tuple(added), subscription_of(db, chat_id))


def unsubscribe(db: Database, chat_id: int, street: str | None = None, now: float | None = None) -> list[str]:
    """Remove one street (or, with None, every street and deactivate); returns the streets removed."""
    now = time.time() if now is None else now
    with db.transaction() as conn:
        if street is None:
            removed = [r[0] for r in conn.execute("SELECT street FROM subscriptions WHERE chat_id = ?", (chat_id,))]
            conn.execute("DELETE FROM subscriptions WHERE chat_id = ?", (chat_id,))
        else:
            cursor = conn.execute("DELETE FROM subscriptions WHERE chat_id = ? AND street = ?", (chat_id, street))
            removed = [street] if cursor.rowcount else []
        left = conn.execute("SELECT COUNT(*) FROM subscriptions WHERE chat_id = ?", (chat_id,)).fetchone()[0]
        if not left:
            conn.execute("UPDATE subscribers SET active = 0, updated_at = ? WHERE chat_id = ?", (now, chat_id))
    return removed


def mark_blocked(db: Database, chat_id: int, now: float | None = None) -> None:
    """The chat blocked the bot: keep its streets but stop treating it as active."""
    now = time.time() if now is None else now
    db.execute(
        "UPDATE subscribers SET active = 0, blocked_at = ?, updated_at = ? WHERE chat_id = ? AND active = 1",
        (now, now, chat_id),
    )


def subscribers_for(db: Database, street: str, matches: Callable[[str, str], bool] | None = None) -> list[int]:
    """Active chats that should receive an issue of `street` (including "all streets" subscribers).

    `matches(subscribed, street)` decides whether a stored street name covers `street`
    (default: equal names); pass `index.issue_catalog.street_matches` to be lenient.
    """
    rows = db.query(
        "SELECT DISTINCT s.chat_id, s.street FROM subscriptions s JOIN subscribers c ON c.chat_id = s.chat_id "
        "WHERE c.active = 1 ORDER BY s.chat_id"
    )
    same = matches or (lambda a, b: a == b)
    chats: dict[int, None] = {}
    for row in rows:
        if row["street"] == ALL_STREETS or same(row["street"], street):
            chats[int(row["chat_id"])] = None
    return list(chats)


def log_query(db: Database, chat_id: int | None, question: str, results: int, now: float | None = None) -> int:
    """Record one question and how many results it got; returns the row id (used by paging buttons).

    Ids are random (48 bits), not sequential: a button's id cannot be guessed from one's own.
    """
    now = time.time() if now is None else now
    while True:
        row_id = secrets.randbits(QUERY_ID_BITS) or 1
        try:
            db.execute(
                "INSERT INTO query_log (id, at, chat_id, question, results) VALUES (?, ?, ?, ?, ?)",
                (row_id, now, chat_id, question[:MAX_LOGGED_QUESTION], int(results)),
            )
        except INTEGRITY_ERRORS:  # the id is taken: draw another
            continue
        return row_id


def logged_question(db: Database, query_id: int, chat_id: int | None = None) -> str | None:
    """The question of a query-log row asked in `chat_id`, or None when the row is gone or another chat's."""
    rows = db.query("SELECT question, chat_id FROM query_log WHERE id = ?", (query_id,))
    if not rows or rows[0][1] != chat_id:
        return None
    return str(rows[0][0])
