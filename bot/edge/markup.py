"""A `Reply`'s buttons as python-telegram-bot's inline keyboard."""

from __future__ import annotations

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core.messages import Reply


def keyboard(reply: Reply) -> InlineKeyboardMarkup | None:
    """The inline keyboard, or None without buttons."""
    rows = [
        [InlineKeyboardButton(b.text, callback_data=b.data, url=b.url) for b in row] for row in reply.buttons if row
    ]
    return InlineKeyboardMarkup(rows) if rows else None
