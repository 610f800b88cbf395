"""What the staff handlers share: their constants, the per-process staff state kept in the typed
`bot_data` (bot.edge.context), and the plain refusal everyone else gets (`refuse`, `guarded`).

Staff commands belong in private chats: in a group neither a refusal nor a staff reply is
posted to the group (a resident's /reindex there is not announced to everyone); the person is
told in a private message when the bot may write to them.
"""

from __future__ import annotations

import asyncio
import functools
import html
import logging
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Chat, InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.error import BadRequest, TelegramError

from bot.core import staff_texts, summary_edits
from bot.core.roles import Roles
from bot.core.staff_texts import PRIVATE_ONLY
from bot.edge.context import BotContext, BotData
from bot.edge.errors import not_modified

log = logging.getLogger(__name__)


CALLBACK_PREFIX = "stf:"
# ✏️ 修改 buttons under a preview: their own prefix, so their handler needs no routing through press_button.
EDIT_PREFIX = "sed:"
# Telegram allows 100 buttons; an issue with more articles than this has only its first lines editable.
MAX_EDIT_BUTTONS = 40
# Broadcast messages in flight at once: enough for 25/s at Telegram's usual round trip.
SENDER_CONCURRENCY = 8
# A preview nobody pressed a button on for this long is forgotten.
UPLOAD_TTL = 24 * 3600
MAX_STREET_BUTTONS = 24
MAX_SKIPPED_LISTED = 20
RECENT_BROADCASTS = 10


Handler = Callable[[Update, BotContext], Coroutine[Any, Any, None]]


# --- shared state ---------------------------------------------------------------------


async def roles_of(data: BotData) -> Roles:
    """The process's role checker (read from SQLite in a worker thread on first use)."""
    if data.roles is None:
        services = data.services
        data.roles = await asyncio.to_thread(Roles, services.settings.roles, services.db)
    return data.roles


async def load_edits(data: BotData) -> summary_edits.SummaryEdits:
    """The summary corrections and open prompts (read from SQLite in a worker thread on first use)."""
    if data.edits is None:
        data.edits = await asyncio.to_thread(summary_edits.SummaryEdits, data.services.db, UPLOAD_TTL)
    return data.edits


def edits_of(data: BotData) -> summary_edits.SummaryEdits:
    """The summary corrections, loaded at start-up (bot.edge.staff.on_startup)."""
    if data.edits is None:
        raise RuntimeError("the staff side has not started: summary edits are not loaded")
    return data.edits


def plain(text: str) -> str:
    """Plain text made safe for the HTML parse mode every message is sent with."""
    return html.escape(text, quote=False)


# --- refusing -------------------------------------------------------------------------


def in_private(update: Update) -> bool:
    chat = update.effective_chat
    return chat is None or chat.type == Chat.PRIVATE


async def tell_privately(update: Update, context: BotContext, text: str) -> None:
    """A private message to the person behind a group update (only if they ever started the bot)."""
    user = update.effective_user
    if user is None:
        return
    try:
        await context.bot.send_message(user.id, plain(text))
    except TelegramError as exc:  # they never opened a chat with the bot: nothing more to do
        log.info("could not tell user %s in private: %s", user.id, exc)


async def refuse(update: Update, context: BotContext, what: str) -> None:
    """Say no without saying why (never in a group), and log who asked."""
    user = update.effective_user
    log.warning("refused %s to user %s", what, user.id if user else "unknown")
    if update.callback_query is not None:
        await update.callback_query.answer(staff_texts.REFUSAL, show_alert=True)
    elif not in_private(update):
        await tell_privately(update, context, staff_texts.REFUSAL)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(plain(staff_texts.REFUSAL))


def guarded(admin: bool, what: str) -> Callable[[Handler], Handler]:
    """Run the handler for staff (or admins only) in a private chat, refuse everyone else."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def checked(update: Update, context: BotContext) -> None:
            user = update.effective_user
            roles = await roles_of(context.bot_data)
            uid = user.id if user else None
            allowed = roles.is_admin(uid) if admin else roles.is_staff(uid)
            if not allowed:
                await refuse(update, context, what)
                return
            if update.callback_query is None and not in_private(update):
                log.info("user %s used %s in a group; answered in private", uid, what)
                await tell_privately(update, context, PRIVATE_ONLY.format(what=what))
                return
            await handler(update, context)

        return checked

    return wrap


def button(text: str, *parts: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=CALLBACK_PREFIX + ":".join(parts))


async def edit_pressed(update: Update, text: str, keyboard: InlineKeyboardMarkup | None = None) -> None:
    """Edit the message under the pressed button; an unchanged text is not an error."""
    query = update.callback_query
    assert query is not None
    try:
        await query.edit_message_text(text, reply_markup=keyboard)
    except BadRequest as exc:
        if not not_modified(exc):
            raise
