"""The order in which handlers see an update: three handler groups, and `taking`, which ends an
update's journey once a handler took it.

python-telegram-bot runs the first matching handler of every group in turn. Residents' commands,
buttons and inline queries come first, then the staff side (uploads, staff buttons, the
summary-line conversation, staff commands), then the catch-alls: questions, and the polite
answers to everything else. A handler wrapped with `taking` raises `ApplicationHandlerStop`
after it ran, so no later group sees that update; it may return `DECLINED` instead, to leave the
update to the later groups (a resident's file reaching the staff upload handler is the resident
catch-all's to answer).
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Coroutine
from typing import Any

from telegram import Update
from telegram.ext import ApplicationHandlerStop

from bot.edge.context import BotContext

# Spaced out, so a handler can be put between two of them (an extension, a test).
COMMANDS_GROUP = 0
STAFF_GROUP = 10
CATCH_ALL_GROUP = 20

# What a handler returns to leave the update to later groups.
DECLINED = False

Callback = Callable[[Update, BotContext], Coroutine[Any, Any, bool | None]]
Taking = Callable[[Update, BotContext], Coroutine[Any, Any, None]]


def taking(callback: Callback) -> Taking:
    """`callback`, then stop: later handler groups do not see the update (unless it DECLINED)."""

    @functools.wraps(callback)
    async def run(update: Update, context: BotContext) -> None:
        if await callback(update, context) is DECLINED:
            return
        raise ApplicationHandlerStop

    return run
