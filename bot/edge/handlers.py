"""Registering the resident side of the Telegram bot: questions, articles, paging, /latest,
subscriptions, group questions, inline mode, edited questions, and polite answers to
everything else.

Handlers are registered around the staff module in the groups of `bot.edge.routing`:
`add_resident_handlers` puts commands, button presses and inline queries first (each stops the
update once it ran); `add_catch_all_handlers` puts questions and the replies to anything
unexpected last, so they see only what no earlier handler took (a staff upload, a staff button,
a staff conversation).

In groups every command of ours answers or explains: /ask, /latest, /help and /start work
there; /subscribe, /unsubscribe and /mysubs explain that they belong in a private chat; an
unknown command written for this bot by name gets what works in groups. Search, index reloads
and SQLite run in worker threads, so no handler blocks the event loop.
"""

from __future__ import annotations

import logging

from telegram.ext import (
    CallbackQueryHandler,
    CommandHandler,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot.core import callbacks
from bot.edge.context import BotApplication
from bot.edge.resident_buttons import button, inline_query, stale_button
from bot.edge.resident_messages import (
    ADDRESSED_TO_ME,
    MENTIONS_ME,
    ask,
    edited_command,
    group_help,
    help_command,
    latest,
    mention,
    mysubs,
    not_text,
    private_only,
    question,
    start,
    subscribe,
    unknown_command,
    unsubscribe,
)
from bot.edge.routing import CATCH_ALL_GROUP, COMMANDS_GROUP, taking

log = logging.getLogger(__name__)

NEW = filters.UpdateType.MESSAGE
EDITED = filters.UpdateType.EDITED_MESSAGE
PRIVATE = filters.ChatType.PRIVATE
GROUPS = filters.ChatType.GROUPS


def add_resident_handlers(application: BotApplication) -> None:
    """Commands, our buttons and inline mode (first group, before the staff handlers)."""
    # Commands act on new messages only: editing "/subscribe 天山路" must not subscribe again.
    for name, callback in (
        ("start", start),
        ("help", help_command),
        ("subscribe", subscribe),
        ("unsubscribe", unsubscribe),
        ("mysubs", mysubs),
    ):
        application.add_handler(CommandHandler(name, taking(callback), filters=PRIVATE & NEW), COMMANDS_GROUP)
    application.add_handler(CommandHandler(["start", "help"], taking(group_help), filters=GROUPS & NEW), COMMANDS_GROUP)
    application.add_handler(
        CommandHandler(["subscribe", "unsubscribe", "mysubs"], taking(private_only), filters=GROUPS & NEW),
        COMMANDS_GROUP,
    )
    application.add_handler(CommandHandler("latest", taking(latest), filters=NEW), COMMANDS_GROUP)
    # An edited /ask asks again, like an edited question.
    application.add_handler(CommandHandler("ask", taking(ask), filters=NEW | EDITED), COMMANDS_GROUP)
    application.add_handler(CallbackQueryHandler(taking(button), pattern=f"^{callbacks.PREFIX}"), COMMANDS_GROUP)
    application.add_handler(InlineQueryHandler(taking(inline_query)), COMMANDS_GROUP)


def add_catch_all_handlers(application: BotApplication) -> None:
    """Questions and answers to anything else (last group, after the staff handlers)."""
    text = filters.TEXT & ~filters.COMMAND
    for handler in (
        MessageHandler(PRIVATE & (NEW | EDITED) & text, question),
        MessageHandler(GROUPS & (NEW | EDITED) & text & MENTIONS_ME, mention),
        MessageHandler(PRIVATE & EDITED & filters.COMMAND, edited_command),
        MessageHandler(PRIVATE & NEW & filters.COMMAND, unknown_command),
        MessageHandler(GROUPS & NEW & filters.COMMAND & ADDRESSED_TO_ME, unknown_command),
        MessageHandler(PRIVATE & NEW & ~filters.TEXT & ~filters.StatusUpdate.ALL, not_text),
        CallbackQueryHandler(stale_button),
    ):
        application.add_handler(handler, CATCH_ALL_GROUP)
