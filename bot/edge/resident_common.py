"""What the resident handlers share: sending and editing a `Reply`, the rate limit and queue,
running search in a worker thread with the newest index, and remembering listed results.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from telegram import (
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import (
    ContextTypes,
)

from bot.core import replies
from bot.core.listings import ChatListings, Listing
from bot.core.ratelimit import RateLimiter, Verdict
from bot.core.replies import Reply
from bot.core.services import BotServices, services_of
from bot.edge.errors import not_modified
from bot.edge.markup import keyboard
from index.search import SearchResponse

log = logging.getLogger(__name__)

RESIDENT_GROUP = 0
CATCH_ALL_GROUP = 1

T = TypeVar("T")


# How often (seconds) a question may trigger a check for an index published by another process.
RELOAD_EVERY = 5.0


EXTRA_LIMITER = "resident.rate_limiter"


EXTRA_RELOADED = "resident.reload_checked"


EXTRA_LISTINGS = "resident.listings"


NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


def services_from(context: ContextTypes.DEFAULT_TYPE) -> BotServices:
    return services_of(context.bot_data)


def rate_limiter(services: BotServices) -> RateLimiter:
    """The per-resident question limiter of this process (made on first use)."""
    limiter = services.extras.get(EXTRA_LIMITER)
    if not isinstance(limiter, RateLimiter):
        tg = services.settings.telegram
        limiter = services.extras[EXTRA_LIMITER] = RateLimiter(tg.burst, tg.rate_per_second)
    return limiter


def listings(services: BotServices) -> ChatListings:
    """What each chat was last shown as a numbered list (made on first use)."""
    found = services.extras.get(EXTRA_LISTINGS)
    if not isinstance(found, ChatListings):
        found = services.extras[EXTRA_LISTINGS] = ChatListings()
    return found


def remember_results(
    services: BotServices, chat_id: int | None, response: SearchResponse, query_id: int | None
) -> None:
    if chat_id is None or not response.results:
        return
    ids = [r.article.id for r in response.results]
    listing = Listing(ids, response.offset + 1, response.query, query_id, response.offset)
    listings(services).remember(chat_id, listing)


async def check_for_new_index(services: BotServices) -> None:
    """Load an index published by another process (checked at most every few seconds)."""
    now = time.monotonic()
    last = services.extras.get(EXTRA_RELOADED)
    if last is None or now - float(last) >= RELOAD_EVERY:
        services.extras[EXTRA_RELOADED] = now
        try:
            await asyncio.to_thread(services.holder.reload_if_changed)
        except Exception:  # a broken new index must not stop answers from the loaded one
            log.exception("checking for a newer index failed; answering from the loaded one")


async def with_engine(services: BotServices, work: Callable[..., T], *args: Any) -> T:
    """`work(engine, *args)` in a worker thread, on the engine that is current when it starts.

    The engine is read in the worker thread, not here: work queued behind a long job must not
    run on an index that was swapped out (by a reindex or a publish) while it waited.
    """
    await check_for_new_index(services)
    holder = services.holder

    def leased() -> T:
        # Held for the whole call, so a swap cannot close the engine under this question.
        with holder.lease() as engine:
            return work(engine, *args)

    return await asyncio.to_thread(leased)


async def send_reply(update: Update, context: ContextTypes.DEFAULT_TYPE, reply: Reply) -> Message | None:
    """Send a reply into the update's chat (quoting the question in groups)."""
    chat = update.effective_chat
    if chat is None:
        return None
    message = update.message
    if message is not None and update.callback_query is None:
        return await message.reply_text(
            reply.html, parse_mode=ParseMode.HTML, reply_markup=keyboard(reply), link_preview_options=NO_PREVIEW
        )
    return await context.bot.send_message(
        chat.id, reply.html, parse_mode=ParseMode.HTML, reply_markup=keyboard(reply), link_preview_options=NO_PREVIEW
    )


async def edit_reply(update: Update, reply: Reply) -> None:
    """Replace the message a button was pressed on (pressing the same button twice is fine)."""
    query = update.callback_query
    assert query is not None
    try:
        await query.edit_message_text(
            reply.html, parse_mode=ParseMode.HTML, reply_markup=keyboard(reply), link_preview_options=NO_PREVIEW
        )
    except BadRequest as exc:
        if not not_modified(exc):
            raise


async def allowed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Take a token from the resident's bucket; tells them to slow down (once) when it is empty."""
    who = update.effective_user or update.effective_chat
    if who is None:
        return True
    verdict = rate_limiter(services_from(context)).check(who.id)
    if verdict is Verdict.ALLOW:
        return True
    log.info("chat %s is sending too fast (%s)", update.effective_chat.id if update.effective_chat else "-", verdict)
    warn = verdict is Verdict.WARN
    if update.callback_query is not None:
        # A press must always be answered, or the button keeps spinning on the resident's phone.
        await update.callback_query.answer(replies.SLOW_DOWN if warn else None)
    elif warn:
        await send_reply(update, context, replies.notice(replies.SLOW_DOWN))
    return False


async def queued(update: Update, context: ContextTypes.DEFAULT_TYPE, services: BotServices) -> bool:
    """Wait for the resident's turn (a burst is answered in order); False when the queue is full.

    The first question refused is answered with a notice quoting it, so the resident knows
    which questions went unanswered.
    """
    who = update.effective_user or update.effective_chat
    if who is None:
        return True
    limiter = rate_limiter(services)
    verdict, wait = limiter.reserve(who.id, services.settings.telegram.queue)
    if verdict is Verdict.QUEUE:
        await asyncio.sleep(wait)  # pacing a resident's own burst, not a test wait
        return True
    if verdict is Verdict.ALLOW:
        return True
    log.info("chat %s: question queue full (%s)", update.effective_chat.id if update.effective_chat else "-", verdict)
    if verdict is Verdict.WARN:
        seconds = max(1, round(limiter.warn_every))
        await send_reply(update, context, replies.notice(replies.QUEUE_FULL.format(seconds=seconds)))
    return False


def claimed_earlier(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """True when a handler of an earlier group (e.g. a staff handler) already took this update."""
    for group, handlers in context.application.handlers.items():
        if group >= CATCH_ALL_GROUP:
            continue
        for handler in handlers:
            check = handler.check_update(update)
            if check is not None and check is not False:
                return True
    return False
