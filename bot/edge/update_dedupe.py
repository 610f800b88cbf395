"""Each update handled once across workers, even when Telegram delivers it twice.

Telegram sends a webhook update again when it got no 200 in time (a slow proxy, a worker that
died after reading it), and the proxy may give the second copy to another worker. With several
workers on one PostgreSQL state, the update processor first records the update id in
`handled_updates` (migration 010_handled_updates); the worker whose insert wins handles it, the
others skip it. One process (SQLite) needs none of this. `ChatOrderedProcessor` asks an
`UpdateClaims` before it queues an update.
"""

from __future__ import annotations

import asyncio
import logging
import time

from telegram import Update

from bot.core.state import DATABASE_ERRORS, Database

log = logging.getLogger(__name__)

# Update ids are kept this long (Telegram gives up redelivering long before), pruned now and then.
KEEP_SECONDS = 24 * 3600.0
PRUNE_EVERY = 1000


def claim_update(db: Database, update_id: int, now: float | None = None) -> bool:
    """Record that this worker handles `update_id`; False when another worker already does."""
    now = time.time() if now is None else now
    cursor = db.execute(
        "INSERT INTO handled_updates (update_id, at) VALUES (?, ?) ON CONFLICT DO NOTHING", (update_id, now)
    )
    if update_id % PRUNE_EVERY == 0:
        db.execute("DELETE FROM handled_updates WHERE at < ?", (now - KEEP_SECONDS,))
    return cursor.rowcount == 1


class UpdateClaims:
    """Tells the update processor whether this worker is the first to take an update."""

    def __init__(self, db: Database) -> None:
        self.db = db

    async def __call__(self, update: object) -> bool:
        """True unless another worker already claimed this update's id."""
        update_id = update.update_id if isinstance(update, Update) else None
        if update_id is None:
            return True
        try:
            first = await asyncio.to_thread(claim_update, self.db, update_id)
        except DATABASE_ERRORS:  # the database away for a moment: answering twice beats not at all
            log.exception("could not record update %s; handling it anyway", update_id)
            return True
        if not first:
            log.info("update %s is handled by another worker; skipped here", update_id)
        return first
