"""The resident side of the Telegram bot: questions, articles, paging, /latest, subscriptions,
group questions, inline mode, and polite answers to everything else.

Handlers are registered in two steps around the staff module (see `bot.app.build_application`):
`add_resident_handlers` puts commands, button presses and inline queries in group 0;
`add_catch_all_handlers` puts questions and the replies to anything unexpected in group 1, and
those stay silent when a handler of an earlier group (a staff upload, a staff button, a staff
conversation) already took the update. Search, index reloads and SQLite run in worker threads,
so no handler blocks the event loop.
"""

from __future__ import annotations

import logging

from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot.core import callbacks
from bot.edge.resident_buttons import button, inline_query, stale_button
from bot.edge.resident_common import CATCH_ALL_GROUP, RESIDENT_GROUP
from bot.edge.resident_messages import (
    MENTIONS_ME,
    ask,
    help_command,
    latest,
    mention,
    mysubs,
    not_text,
    question,
    start,
    subscribe,
    unknown_command,
    unsubscribe,
)

log = logging.getLogger(__name__)





def add_resident_handlers(application: Application) -> None:
    """Commands, our buttons and inline mode (group 0, before the staff handlers)."""
    # Commands act on new messages only: editing "/subscribe 天山路" must not subscribe again.
    new_message = filters.UpdateType.MESSAGE
    private = filters.ChatType.PRIVATE & new_message
    for name, callback in (
        ("start", start),
        ("help", help_command),
        ("latest", latest),
        ("subscribe", subscribe),
        ("unsubscribe", unsubscribe),
        ("mysubs", mysubs),
    ):
        application.add_handler(CommandHandler(name, callback, filters=private), RESIDENT_GROUP)
    application.add_handler(CommandHandler("ask", ask, filters=new_message), RESIDENT_GROUP)
    application.add_handler(CallbackQueryHandler(button, pattern=f"^{callbacks.PREFIX}"), RESIDENT_GROUP)
    application.add_handler(InlineQueryHandler(inline_query), RESIDENT_GROUP)


def add_catch_all_handlers(application: Application) -> None:
    """Questions and answers to anything else (group 1, after the staff handlers)."""
    new_message = filters.UpdateType.MESSAGE
    private = filters.ChatType.PRIVATE & new_message
    application.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND, question), CATCH_ALL_GROUP)
    application.add_handler(
        MessageHandler(filters.ChatType.GROUPS & new_message & filters.TEXT & ~filters.COMMAND & MENTIONS_ME, mention),
        CATCH_ALL_GROUP,
    )
    application.add_handler(MessageHandler(private & filters.COMMAND, unknown_command), CATCH_ALL_GROUP)
    application.add_handler(
        MessageHandler(private & ~filters.TEXT & ~filters.StatusUpdate.ALL, not_text), CATCH_ALL_GROUP
    )
    application.add_handler(CallbackQueryHandler(stale_button), CATCH_ALL_GROUP)
