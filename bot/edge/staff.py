"""The staff and admin side of the bot, wired into the application: publishing an uploaded
issue (preview, street and month buttons, ✏️ 修改 of a summary line, Publish/Cancel), broadcasts
(/broadcasts, the sender's start and stop), /staff, /reindex and /stats.

Staff handlers live in handler group 0, after the resident commands. The resident catch-alls in
group 1 stay silent for any update one of these handlers matches (`bot.edge.handlers._claimed_earlier`),
so the document filter matches staff only: a resident's file still gets the resident's answer.
Everyone else using a staff or admin command gets the same plain refusal, and is logged.

The rooms: `staff_state` (shared state, refusals), `staff_upload` (the publish conversation),
`staff_edits` (✏️ 修改), `staff_commands` (/staff, /broadcasts, /stats, /reindex).
"""

from __future__ import annotations

import asyncio
import contextlib
from typing import Any

from telegram import Bot, Message
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, MessageHandler, filters
from telegram.request import HTTPXRequest

from bot.core.services import SERVICES_KEY, BotServices, services_of
from bot.edge.sender import BroadcastSender
from bot.edge.staff_commands import list_broadcasts, manage_staff, reindex, show_stats
from bot.edge.staff_edits import AwaitingLine, press_edit, receive_line
from bot.edge.staff_state import (
    CALLBACK_PREFIX,
    EDIT_PREFIX,
    EXTRA_SENDER,
    EXTRA_SENDER_REQUEST,
    SENDER_CONCURRENCY,
    STAFF_GROUP,
    edits_of,
    roles_of,
    sender_of,
    tasks_of,
)
from bot.edge.staff_upload import press_button, receive_document


class _StaffOnly(filters.MessageFilter):
    """Matches messages from staff, so residents' files fall through to the resident handlers."""

    def __init__(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        super().__init__(name="StaffOnly")
        self.application = application

    def filter(self, message: Message) -> bool:
        services = self.application.bot_data.get(SERVICES_KEY)
        if not isinstance(services, BotServices) or message.from_user is None:
            return False
        return roles_of(services).is_staff(message.from_user.id)


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Add the staff and admin handlers to the application (handler group 0)."""
    uploads = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE & filters.Document.ALL
    application.add_handler(MessageHandler(uploads & _StaffOnly(application), receive_document), STAFF_GROUP)
    application.add_handler(CallbackQueryHandler(press_button, pattern=f"^{CALLBACK_PREFIX}"), STAFF_GROUP)
    register_summary_edits(application)
    for name, callback in (
        ("staff", manage_staff),
        ("broadcasts", list_broadcasts),
        ("reindex", reindex),
        ("stats", show_stats),
    ):
        application.add_handler(CommandHandler(name, callback, filters=filters.UpdateType.MESSAGE), STAFF_GROUP)


def register_summary_edits(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """The ✏️ 修改 buttons and the corrected line that follows (handler group 0)."""
    application.add_handler(CallbackQueryHandler(press_edit, pattern=f"^{EDIT_PREFIX}"), STAFF_GROUP)
    awaiting = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND
    application.add_handler(MessageHandler(awaiting & AwaitingLine(application), receive_line), STAFF_GROUP)


async def on_startup(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Start the broadcast sender, resuming unfinished broadcasts."""
    services = services_of(application.bot_data)
    roles_of(services)
    edits_of(services)
    tg = services.settings.telegram
    # The sender has its own Bot and connection pool: application.shutdown() closes the
    # application's client, and a broadcast must be able to finish the sends in flight first.
    request = HTTPXRequest(connection_pool_size=SENDER_CONCURRENCY + 4)
    bot = Bot(application.bot.token, base_url=tg.base_url, base_file_url=tg.base_file_url, request=request)
    await request.initialize()
    sender = BroadcastSender(services.db, bot, services.settings.broadcast, concurrency=SENDER_CONCURRENCY)
    services.extras[EXTRA_SENDER] = sender
    services.extras[EXTRA_SENDER_REQUEST] = request
    sender.start()


async def on_shutdown(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Stop the broadcast sender (letting messages in flight finish) and the progress tasks."""
    services = services_of(application.bot_data)
    sender = sender_of(services)
    if sender is not None:
        await sender.stop()
    request = services.extras.pop(EXTRA_SENDER_REQUEST, None)
    if isinstance(request, HTTPXRequest):
        await request.shutdown()
    for task in list(tasks_of(services)):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
