"""What a Bot API error means for the bot, where the error's type alone does not say."""

from __future__ import annotations

from telegram.error import TelegramError


def not_modified(exc: TelegramError) -> bool:
    """Whether Telegram refused an edit because the message already reads so ("message is not
    modified"): the edit's purpose is met, so it is no failure. PTB raises it as a plain
    BadRequest, so only the text tells it apart."""
    return "message is not modified" in exc.message.lower()
