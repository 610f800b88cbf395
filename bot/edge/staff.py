"""The staff and admin side of the bot, wired into the application: publishing an uploaded
issue (preview, street and month buttons, ✏️ 修改 of a summary line, Publish/Cancel), broadcasts
(/broadcasts, the sender's start and stop), /staff, /reindex and /stats.

Staff handlers form the middle handler group (bot.edge.routing): each one that takes an update
stops it, so the resident catch-alls after them never see it. The upload handler declines a
resident's file (checked in the handler, not in a filter: a filter runs synchronously on the
event loop), which then gets the resident's answer. Everyone else using a staff or admin
command gets the same plain refusal, and is logged.

The rooms: `staff_state` (shared helpers, refusals), `staff_upload` (the publish conversation),
`staff_edits` (✏️ 修改), `staff_commands` (/staff, /broadcasts, /stats, /reindex).
"""

from __future__ import annotations

import asyncio
import contextlib

from telegram import Bot, Message, Update
from telegram.ext import CallbackQueryHandler, CommandHandler, MessageHandler, filters
from telegram.request import HTTPXRequest

from bot.edge.context import BotApplication, BotContext, BotData
from bot.edge.routing import DECLINED, STAFF_GROUP, taking
from bot.edge.sender import BroadcastSender
from bot.edge.staff_commands import list_broadcasts, manage_staff, reindex, show_stats
from bot.edge.staff_edits import press_edit, receive_line
from bot.edge.staff_state import (
    CALLBACK_PREFIX,
    EDIT_PREFIX,
    SENDER_CONCURRENCY,
    load_edits,
    roles_of,
)
from bot.edge.staff_upload import press_button, receive_document


async def staff_document(update: Update, context: BotContext) -> bool | None:
    """A file in a private chat: an issue to publish when staff sent it; anyone else's is declined."""
    user = update.effective_user
    roles = await roles_of(context.bot_data)
    if user is None or not roles.is_staff(user.id):
        return DECLINED
    await receive_document(update, context)
    return None


class AwaitingLine(filters.MessageFilter):
    """Matches the text a staff member sends after pressing ✏️ 修改 (until they answer or cancel).

    It reads the open prompts from memory (SummaryEdits keeps them there); with a shared
    database, a staff member's text that memory finds no prompt for reads them again.
    """

    def __init__(self, data: BotData) -> None:
        super().__init__(name="AwaitingSummaryLine")
        self.data = data

    def filter(self, message: Message) -> bool:
        edits = self.data.edits
        if edits is None or message.from_user is None:
            return False
        user_id = message.from_user.id
        # Only staff are ever asked for a line: for them a miss is read again from a shared database.
        roles = self.data.roles
        staff = roles is not None and roles.is_staff(user_id)
        return edits.asking(message.chat_id, user_id, recheck=staff) is not None


def register(application: BotApplication) -> None:
    """Add the staff and admin handlers to the application (the staff handler group)."""
    uploads = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE & filters.Document.ALL
    application.add_handler(MessageHandler(uploads, taking(staff_document)), STAFF_GROUP)
    application.add_handler(CallbackQueryHandler(taking(press_button), pattern=f"^{CALLBACK_PREFIX}"), STAFF_GROUP)
    application.add_handler(CallbackQueryHandler(taking(press_edit), pattern=f"^{EDIT_PREFIX}"), STAFF_GROUP)
    awaiting = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND
    application.add_handler(
        MessageHandler(awaiting & AwaitingLine(application.bot_data), taking(receive_line)), STAFF_GROUP
    )
    for name, callback in (
        ("staff", manage_staff),
        ("broadcasts", list_broadcasts),
        ("reindex", reindex),
        ("stats", show_stats),
    ):
        application.add_handler(CommandHandler(name, taking(callback), filters=filters.UpdateType.MESSAGE), STAFF_GROUP)


async def on_startup(application: BotApplication) -> None:
    """Read roles and summary prompts (in worker threads), then start the broadcast sender,
    resuming unfinished broadcasts."""
    data = application.bot_data
    await roles_of(data)
    await load_edits(data)
    settings = data.services.settings
    tg = settings.telegram
    # The sender has its own Bot and connection pool: application.shutdown() closes the
    # application's client, and a broadcast must be able to finish the sends in flight first.
    request = HTTPXRequest(connection_pool_size=SENDER_CONCURRENCY + 4)
    bot = Bot(application.bot.token, base_url=tg.base_url, base_file_url=tg.base_file_url, request=request)
    await request.initialize()
    sender = BroadcastSender(data.services.db, bot, settings.broadcast, concurrency=SENDER_CONCURRENCY)
    data.sender, data.sender_request = sender, request
    sender.start()


async def on_shutdown(application: BotApplication) -> None:
    """Stop the broadcast sender (letting messages in flight finish) and the progress tasks."""
    data = application.bot_data
    if data.sender is not None:
        await data.sender.stop()
        data.sender = None
    request, data.sender_request = data.sender_request, None
    if request is not None:
        await request.shutdown()
    for task in list(data.tasks):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
