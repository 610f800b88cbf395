"""What the staff handlers share: their constants, an upload in progress (`Upload`), the services
and per-process state they keep, and the plain refusal everyone else gets (`refuse`, `guarded`).
"""

from __future__ import annotations

import asyncio
import dataclasses
import functools
import logging
import re
import time
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from typing import Any

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import ContextTypes

from bot.core import publishing, summary_edits
from bot.core.roles import Roles
from bot.core.services import BotServices, services_of
from bot.core.upload_checks import UploadChecks
from bot.edge.errors import not_modified
from bot.edge.sender import BroadcastSender

log = logging.getLogger(__name__)


STAFF_GROUP = 0
REFUSAL = "抱歉，这个命令不可用。"
CALLBACK_PREFIX = "stf:"
# ✏️ 修改 buttons under a preview: their own prefix, so their handler needs no routing through press_button.
EDIT_PREFIX = "sed:"
# Telegram allows 100 buttons; an issue with more articles than this has only its first lines editable.
MAX_EDIT_BUTTONS = 40
EXTRA_ROLES = "staff.roles"
EXTRA_SENDER = "staff.sender"
EXTRA_UPLOADS = "staff.uploads"
EXTRA_PUBLISH_LOCK = "staff.publish_lock"
EXTRA_TASKS = "staff.tasks"
EXTRA_SENDER_REQUEST = "staff.sender_request"
EXTRA_EDITS = "staff.summary_edits"
# Broadcast messages in flight at once: enough for 25/s at Telegram's usual round trip.
SENDER_CONCURRENCY = 8
# A preview nobody pressed a button on for this long is forgotten.
UPLOAD_TTL = 24 * 3600
MAX_STREET_BUTTONS = 24
MAX_SKIPPED_LISTED = 20
RECENT_BROADCASTS = 10
STAGE_NAMES = {"starting": "准备中", "waiting": "等待", "segmenting": "分词", "done": "完成", "failed": "失败"}

_LABEL_RE = re.compile(r"(街道|月份|月|street|month)\s*[:：=]", re.IGNORECASE)
_SPLIT_RE = re.compile(r"[\s,，、;；/|]+")

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


# --- shared state ---------------------------------------------------------------------


@dataclass
class Upload:
    """A staff member's uploaded issue, between the document and Publish/Cancel."""

    token: str
    chat_id: int
    user_id: int
    file_name: str
    data: bytes
    street: str | None = None
    month: str | None = None
    district: str = ""
    newspaper: str = ""
    street_choices: list[str] = dataclasses.field(default_factory=list)
    draft: publishing.Draft | None = None
    created: float = dataclasses.field(default_factory=time.time)
    checks: UploadChecks = dataclasses.field(default_factory=UploadChecks)


def services_from(context: ContextTypes.DEFAULT_TYPE) -> BotServices:
    return services_of(context.bot_data)


def roles_of(services: BotServices) -> Roles:
    """The process's role checker (made on first use)."""
    roles = services.extras.get(EXTRA_ROLES)
    if not isinstance(roles, Roles):
        roles = services.extras[EXTRA_ROLES] = Roles(services.settings.roles, services.db)
    return roles


def uploads_of(services: BotServices) -> dict[str, Upload]:
    uploads: dict[str, Upload] = services.extras.setdefault(EXTRA_UPLOADS, {})
    return uploads


def publish_lock_of(services: BotServices) -> asyncio.Lock:
    lock: asyncio.Lock = services.extras.setdefault(EXTRA_PUBLISH_LOCK, asyncio.Lock())
    return lock


def tasks_of(services: BotServices) -> set[asyncio.Task[None]]:
    tasks: set[asyncio.Task[None]] = services.extras.setdefault(EXTRA_TASKS, set())
    return tasks


def edits_of(services: BotServices) -> summary_edits.SummaryEdits:
    edits = services.extras.get(EXTRA_EDITS)
    if not isinstance(edits, summary_edits.SummaryEdits):
        edits = services.extras[EXTRA_EDITS] = summary_edits.SummaryEdits(services.db, UPLOAD_TTL)
    return edits


def sender_of(services: BotServices) -> BroadcastSender | None:
    sender = services.extras.get(EXTRA_SENDER)
    return sender if isinstance(sender, BroadcastSender) else None


# --- refusing -------------------------------------------------------------------------


async def refuse(update: Update, what: str) -> None:
    """Say no without saying why, and log who asked."""
    user = update.effective_user
    log.warning("refused %s to user %s", what, user.id if user else "unknown")
    if update.callback_query is not None:
        await update.callback_query.answer(REFUSAL, show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(REFUSAL)


def guarded(admin: bool, what: str) -> Callable[[Handler], Handler]:
    """Run the handler for staff (or admins only), refuse everyone else."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def checked(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            user = update.effective_user
            roles = roles_of(services_from(context))
            uid = user.id if user else None
            allowed = await asyncio.to_thread(roles.is_admin if admin else roles.is_staff, uid)
            if not allowed:
                await refuse(update, what)
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
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)
    except BadRequest as exc:
        if not not_modified(exc):
            raise
