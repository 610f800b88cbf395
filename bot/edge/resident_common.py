"""What the resident handlers share: sending and editing a `Reply` (an edited question edits its
earlier answer), the rate limit and queue, running search in a worker thread with the newest
index, and remembering listed results.

Parse mode (HTML) and link previews (off) are the application's `Defaults` (bot.edge.app).
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import Any, TypeVar

from telegram import Message, ReplyParameters, Update
from telegram.error import BadRequest, TelegramError

from bot.core import replies
from bot.core.listings import Listing
from bot.core.messages import Reply
from bot.core.ratelimit import Verdict
from bot.edge.context import BotContext, BotData
from bot.edge.errors import not_modified
from bot.edge.markup import keyboard
from index.search_response import SearchResponse

log = logging.getLogger(__name__)

T = TypeVar("T")

# How often (seconds) a question may trigger a check for an index published by another process.
RELOAD_EVERY = 5.0
# How long a notice of refused questions waits for the rest of a burst still being read.
SETTLE = 0.5


async def remember_listing(data: BotData, chat_id: int, listing: Listing) -> None:
    """Record what a chat was just shown (in the shared database when several workers serve it)."""
    if data.listings.shared:
        await asyncio.to_thread(data.listings.remember, chat_id, listing)
    else:
        data.listings.remember(chat_id, listing)


async def listing_of(data: BotData, chat_id: int | None) -> Listing | None:
    """What the chat was last shown as a numbered list, if remembered."""
    if chat_id is None:
        return None
    if data.listings.shared:
        return await asyncio.to_thread(data.listings.get, chat_id)
    return data.listings.get(chat_id)


async def remember_results(data: BotData, chat_id: int | None, response: SearchResponse, query_id: int | None) -> None:
    if chat_id is None or not response.results:
        return
    ids = [r.article.id for r in response.results]
    await remember_listing(data, chat_id, Listing(ids, response.offset + 1, response.query, query_id, response.offset))


async def check_for_new_index(data: BotData) -> None:
    """Load an index published by another process (checked at most every few seconds)."""
    now = time.monotonic()
    if data.reload_checked is None or now - data.reload_checked >= RELOAD_EVERY:
        data.reload_checked = now
        try:
            await asyncio.to_thread(data.services.holder.reload_if_changed)
        except Exception:  # a broken new index must not stop answers from the loaded one
            log.exception("checking for a newer index failed; answering from the loaded one")


async def with_engine(context: BotContext, work: Callable[..., T], *args: Any) -> T:
    """`work(engine, *args)` in a worker thread, on the engine that is current when it starts.

    The engine is read in the worker thread, not here: work queued behind a long job must not
    run on an index that was swapped out (by a reindex or a publish) while it waited.
    """
    await check_for_new_index(context.bot_data)
    holder = context.services.holder

    def leased() -> T:
        # Held for the whole call, so a swap cannot close the engine under this question.
        with holder.lease() as engine:
            return work(engine, *args)

    return await asyncio.to_thread(leased)


async def send_reply(update: Update, context: BotContext, reply: Reply) -> Message | None:
    """Send a reply into the update's chat (quoting the question in groups).

    The reply to an edited message replaces the earlier answer to it, or (when that answer is
    not known or cannot be edited) comes as a new message quoting the edited one; either way it
    says it answers the question as edited.
    """
    chat = update.effective_chat
    if chat is None:
        return None
    if update.edited_message is not None:
        return await _answer_edit(update.edited_message, context, replies.edited_reply(reply))
    message = update.message
    if message is not None and update.callback_query is None:
        sent = await message.reply_text(reply.html, reply_markup=keyboard(reply))
        context.bot_data.answers.remember(chat.id, message.message_id, sent.message_id)
        return sent
    return await context.bot.send_message(chat.id, reply.html, reply_markup=keyboard(reply))


async def _answer_edit(edited: Message, context: BotContext, reply: Reply) -> Message | None:
    answers = context.bot_data.answers
    earlier = answers.answer_to(edited.chat_id, edited.message_id)
    if earlier is not None:
        try:
            changed = await context.bot.edit_message_text(
                reply.html, chat_id=edited.chat_id, message_id=earlier, reply_markup=keyboard(reply)
            )
            return changed if isinstance(changed, Message) else None
        except BadRequest as exc:
            if not_modified(exc):
                return None
            # Deleted, too old to edit...: the new answer comes as a new message.
            log.info("could not edit the answer to an edited question in chat %s: %s", edited.chat_id, exc)
    sent = await context.bot.send_message(
        edited.chat_id,
        reply.html,
        reply_markup=keyboard(reply),
        reply_parameters=ReplyParameters(edited.message_id, allow_sending_without_reply=True),
    )
    answers.remember(edited.chat_id, edited.message_id, sent.message_id)
    return sent


async def edit_reply(update: Update, reply: Reply) -> None:
    """Replace the message a button was pressed on (pressing the same button twice is fine)."""
    query = update.callback_query
    assert query is not None
    try:
        await query.edit_message_text(reply.html, reply_markup=keyboard(reply))
    except BadRequest as exc:
        if not not_modified(exc):
            raise


def _asker(update: Update) -> int | None:
    who = update.effective_user or update.effective_chat
    return who.id if who is not None else None


async def allowed(update: Update, context: BotContext) -> bool:
    """Take a token from the resident's bucket; tells them to slow down (once) when it is empty."""
    who = _asker(update)
    if who is None:
        return True
    verdict = context.bot_data.limiter.check(who, context.bot_data.arrived_at(update))
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


async def queued(update: Update, context: BotContext, question: str) -> bool:
    """Wait for the resident's turn (a burst is answered in order); False when the queue is full.

    The turn is counted from when the question arrived: the conversation's earlier updates ran
    while it waited in the update processor. A question beyond the queue is not answered, and
    the resident is told which (`refuse`).
    """
    who = _asker(update)
    if who is None:
        return True
    data = context.bot_data
    arrived = data.arrived_at(update)
    verdict, wait = data.limiter.reserve(who, data.services.settings.telegram.queue, arrived)
    if verdict is Verdict.QUEUE:
        if arrived is not None:
            wait -= time.monotonic() - arrived
        if wait > 0:
            await asyncio.sleep(wait)  # pacing a resident's own burst, not a test wait
        return True
    if verdict is Verdict.ALLOW:
        return True
    log.info("chat %s: question queue full (%s)", update.effective_chat.id if update.effective_chat else "-", verdict)
    await refuse(update, context, who, question)
    return False


async def refuse(update: Update, context: BotContext, who: int, question: str) -> None:
    """Note a refused question; tell the resident which were refused, in one notice per burst.

    The notice comes once the rest of the burst has been read (no more updates of this
    conversation queued), and at most once every `RefusedQuestions.every` seconds: a notice that
    cannot go yet is sent by a task when it may, listing every question refused until then.
    """
    data = context.bot_data
    data.refused.add(who, question)
    chat = update.effective_chat
    if chat is None:
        return
    more_queued = data.processor is not None and data.processor.waiting(update) > 1
    delay = data.refused.due_in(who)
    if not more_queued and delay <= 0:
        refused = data.refused.take(who)
        if refused is not None:
            await send_reply(update, context, replies.refused_reply(refused.questions, refused.more))
        return
    if who in data.refusal_notices:
        return
    task = asyncio.create_task(_notice_later(context, who, chat.id, max(delay, SETTLE)), name="refusal-notice")
    data.refusal_notices[who] = task
    data.tasks.add(task)
    task.add_done_callback(data.tasks.discard)


async def _notice_later(context: BotContext, who: int, chat_id: int, delay: float) -> None:
    data = context.bot_data
    try:
        await asyncio.sleep(delay)  # until a notice may go (and the burst has been read)
    finally:
        data.refusal_notices.pop(who, None)
    refused = data.refused.take(who)
    if refused is None:  # told already, by the last question of the burst
        return
    reply = replies.refused_reply(refused.questions, refused.more)
    try:
        await context.bot.send_message(chat_id, reply.html)
    except TelegramError as exc:
        log.warning("could not tell chat %s which questions were not answered: %s", chat_id, exc)
