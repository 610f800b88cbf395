"""Per-chat ordering of updates: `ChatOrderedProcessor`, the Application's update processor.

Updates of different chats run concurrently (each mostly waits on the network or a worker
thread); the updates of one conversation run one after another, in the order they arrived. So
a resident's burst of questions is answered in order, and a staff member's upload, the street
they pick and the Publish they press are handled in that order too.

A conversation is a private chat, one member of a group (members of a busy group do not wait
for each other), or a user pressing buttons under an inline message. Updates with no
conversation (inline queries, polls) run at once.

Each conversation's updates queue behind the one running; the first one's coroutine drains the
queue, holding one of the processor's slots, so a flood from one chat takes one slot, not all.
The processor also notes when each update arrived (`arrived_at`): the rate limiter judges a
burst by when it was sent, not by when its turn came.
"""

from __future__ import annotations

import logging
import time
from collections import deque
from collections.abc import Awaitable, Callable, Coroutine, Hashable
from typing import Any

from telegram import Chat, Update
from telegram.ext import BaseUpdateProcessor

log = logging.getLogger(__name__)


def conversation_of(update: object) -> Hashable | None:
    """The conversation an update belongs to (None: it may run at once)."""
    if not isinstance(update, Update):
        return None
    chat, user = update.effective_chat, update.effective_user
    if chat is not None:
        if chat.type in (Chat.GROUP, Chat.SUPERGROUP) and user is not None:
            return ("member", chat.id, user.id)
        return ("chat", chat.id)
    if update.inline_query is not None or update.chosen_inline_result is not None:
        return None
    if user is not None:
        return ("user", user.id)
    return None


class ChatOrderedProcessor(BaseUpdateProcessor):
    """Runs different conversations concurrently and each conversation's updates in order."""

    def __init__(
        self, max_concurrent_updates: int, first_delivery: Callable[[object], Awaitable[bool]] | None = None
    ) -> None:
        super().__init__(max_concurrent_updates)
        # Several workers: False when another worker already took this update (Telegram redelivered it).
        self._first_delivery = first_delivery
        self._queues: dict[Hashable, deque[tuple[object, Awaitable[Any]]]] = {}
        self._arrived: dict[int, float] = {}

    def arrived_at(self, update: object) -> float | None:
        """When `update` was handed to the processor (time.monotonic), while it is being handled."""
        return self._arrived.get(id(update))

    def waiting(self, update: object) -> int:
        """How many updates of `update`'s conversation are queued or running."""
        key = conversation_of(update)
        queue = self._queues.get(key) if key is not None else None
        return len(queue) if queue is not None else 0

    async def do_process_update(self, update: object, coroutine: Awaitable[Any]) -> None:
        arrived = time.monotonic()
        if self._first_delivery is not None and not await self._first_delivery(update):
            if isinstance(coroutine, Coroutine):
                coroutine.close()
            return
        self._arrived[id(update)] = arrived
        key = conversation_of(update)
        if key is None:
            try:
                await coroutine
            finally:
                self._arrived.pop(id(update), None)
            return
        queue = self._queues.get(key)
        if queue is not None:
            queue.append((update, coroutine))  # the coroutine draining this queue runs it in turn
            return
        queue = self._queues[key] = deque([(update, coroutine)])
        try:
            while queue:
                current, work = queue[0]
                try:
                    await work
                except Exception:  # Application.process_update handles handler errors; this is a last guard
                    log.exception("update %s failed outside its handlers", getattr(current, "update_id", "-"))
                finally:
                    queue.popleft()
                    self._arrived.pop(id(current), None)
        finally:
            # Cancelled (shutdown): the updates still queued are not run; close their coroutines.
            for current, work in queue:
                self._arrived.pop(id(current), None)
                if isinstance(work, Coroutine):
                    work.close()
            del self._queues[key]

    async def initialize(self) -> None:
        """Nothing to set up."""

    async def shutdown(self) -> None:
        """Nothing to free: the Application waits for the updates being handled before this."""
