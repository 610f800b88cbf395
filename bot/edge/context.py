"""The bot's typed python-telegram-bot context: `BotData` (the application's `bot_data`: the
services and every piece of per-process state the handlers share) and `BotContext`, the
`CallbackContext` each handler receives, registered once through `CONTEXT_TYPES`.

python-telegram-bot makes `bot_data` by calling its class with no arguments, so the services
are attached right after the Application is built (`BotData.attach`), and the staff side fills
in the objects it reads from SQLite (roles, summary edits) in a worker thread at start-up.
"""

from __future__ import annotations

import asyncio
from collections import OrderedDict
from typing import TYPE_CHECKING, Any

from telegram.ext import Application, CallbackContext, ContextTypes, ExtBot
from telegram.request import HTTPXRequest

from bot.core.listings import ChatListings
from bot.core.ratelimit import RateLimiter
from bot.core.refusals import RefusedQuestions
from bot.core.roles import Roles
from bot.core.services import BotServices
from bot.core.summary_edits import SummaryEdits
from bot.core.upload_store import UploadStore

if TYPE_CHECKING:
    from bot.edge.ordering import ChatOrderedProcessor
    from bot.edge.sender import BroadcastSender

# Question messages whose answer is remembered, so an edited question edits its answer.
MAX_ANSWERS = 20_000


class AnswerLog:
    """Which bot message answered which resident message (the most recent `limit` of them)."""

    def __init__(self, limit: int = MAX_ANSWERS) -> None:
        self.limit = limit
        self._answers: OrderedDict[tuple[int, int], int] = OrderedDict()

    def remember(self, chat_id: int, message_id: int, answer_id: int) -> None:
        self._answers[(chat_id, message_id)] = answer_id
        self._answers.move_to_end((chat_id, message_id))
        while len(self._answers) > self.limit:
            self._answers.popitem(last=False)

    def answer_to(self, chat_id: int, message_id: int) -> int | None:
        """The id of the bot's answer to that message, if it is remembered."""
        return self._answers.get((chat_id, message_id))


class BotData:
    """Everything one bot process shares between handlers (`context.bot_data`)."""

    def __init__(self) -> None:
        self._services: BotServices | None = None
        self.limiter = RateLimiter(1, 1.0)  # replaced by `attach` with the configured one
        # Questions refused beyond the queue, until the resident is told; and the pending notices.
        self.refused = RefusedQuestions(self.limiter.warn_every)
        self.refusal_notices: dict[int, asyncio.Task[None]] = {}
        self.listings = ChatListings()
        self.answers = AnswerLog()
        # When a question last checked for an index published by another process (monotonic).
        self.reload_checked: float | None = None
        self.processor: ChatOrderedProcessor | None = None
        # Staff side: read from SQLite in a worker thread at start-up (bot.edge.staff.on_startup).
        self.roles: Roles | None = None
        self.edits: SummaryEdits | None = None
        self._uploads: UploadStore | None = None
        self.publish_lock = asyncio.Lock()
        self.tasks: set[asyncio.Task[None]] = set()
        self.sender: BroadcastSender | None = None
        self.sender_request: HTTPXRequest | None = None

    def attach(self, services: BotServices) -> None:
        """Give the process its services (right after the Application is built)."""
        self._services = services
        # Open uploads live in the state database: any worker can take a conversation's next step.
        self._uploads = UploadStore(services.db)
        # Several workers: the resident's next message (a number, 更多) may reach another one.
        self.listings = ChatListings(db=services.db if services.db.shared else None)
        tg = services.settings.telegram
        self.limiter = RateLimiter(tg.burst, tg.rate_per_second)
        self.refused = RefusedQuestions(self.limiter.warn_every)

    @property
    def services(self) -> BotServices:
        """Settings, engine holder and database of this process."""
        if self._services is None:
            raise RuntimeError("bot_data has no services yet: build the application with build_application")
        return self._services

    @property
    def uploads(self) -> UploadStore:
        """Staff uploads between the document and Publish/Cancel."""
        if self._uploads is None:
            raise RuntimeError("bot_data has no services yet: build the application with build_application")
        return self._uploads

    def arrived_at(self, update: object) -> float | None:
        """When the update reached this process (time.monotonic), if the processor knows it."""
        return self.processor.arrived_at(update) if self.processor is not None else None


class BotContext(CallbackContext[ExtBot[None], dict[Any, Any], dict[Any, Any], BotData]):
    """The context every handler of this bot receives."""

    @property
    def services(self) -> BotServices:
        """Shorthand for `context.bot_data.services`."""
        return self.bot_data.services


CONTEXT_TYPES = ContextTypes(context=BotContext, bot_data=BotData)

# The bot is a TolerantBot (bot.edge.updates); the job queue is not used.
BotApplication = Application[Any, BotContext, dict[Any, Any], dict[Any, Any], BotData, Any]
