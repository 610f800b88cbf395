"""Residents' commands and messages: /start, /help, /ask, /latest, /subscribe, /unsubscribe,
/mysubs, questions (in private, by /ask or a mention in groups), listed numbers, 更多, and polite
answers to files and unknown commands.
"""

from __future__ import annotations

import asyncio
import logging
import re

from telegram import (
    Message,
    Update,
)
from telegram.ext import (
    ContextTypes,
    filters,
)

from bot.core import article_pages, callbacks, intents, replies, subscriptions
from bot.core.listings import Listing
from bot.core.resident_actions import (
    ALL_WORDS,
    find_article,
    latest_reply,
    mysubs_reply,
    resolve_street,
    subscribe_offer,
    subscribe_reply,
    unsubscribe_reply,
)
from bot.core.services import BotServices
from bot.edge.resident_common import (
    allowed,
    claimed_earlier,
    listings,
    queued,
    remember_results,
    send_reply,
    services_from,
    with_engine,
)
from index.search import SearchEngine, SearchResponse

log = logging.getLogger(__name__)


def search_and_log(
    engine: SearchEngine, services: BotServices, chat_id: int | None, question: str, offset: int
) -> tuple[SearchResponse, int | None]:
    """Search (worker thread) and record the question; returns the response and its log id."""
    response = engine.search(question, services.settings.search.results_per_page, offset)
    if response.problem:
        return response, None
    query_id = subscriptions.log_query(services.db, chat_id, question, response.total)
    return response, query_id


async def answer_question(
    update: Update, context: ContextTypes.DEFAULT_TYPE, question: str, paced: bool = True
) -> None:
    """Answer one question in the update's chat: results, nothing found, or what was wrong with it.

    `paced=False` when the caller already took the resident's token for this update.
    """
    services = services_from(context)
    if paced and not await queued(update, context, services):
        return
    chat_id = update.effective_chat.id if update.effective_chat else None
    response, query_id = await with_engine(services, search_and_log, services, chat_id, question, 0)
    log.info("question in chat %s: %d result(s)", chat_id, response.total)
    remember_results(services, chat_id, response, query_id)
    await send_reply(
        update, context, replies.answer_reply(response, query_id, services.settings.search.results_per_page)
    )


async def handle_text(update: Update, context: ContextTypes.DEFAULT_TYPE, message: str) -> None:
    """A resident's message: small talk, subscribing, a listed number, 更多, or a question (bot.core.intents)."""
    intent = intents.recognise(message)
    services = services_from(context)
    chat_id = update.effective_chat.id if update.effective_chat else None
    listing = listings(services).get(chat_id) if chat_id is not None else None
    if intent.kind == intents.QUESTION or (intent.kind == intents.NUMBER and not (listing and listing.article_ids)):
        # A number with nothing listed before it is a question (2019, 110 ...).
        await answer_question(update, context, message)
        return
    if not await allowed(update, context):
        return
    if intent.kind in intents.SMALL_TALK:
        await send_reply(update, context, replies.small_talk_reply(intent.kind))
    elif intent.kind == intents.NUMBER and listing is not None:
        await open_listed(update, context, listing, intent.number)
    elif intent.kind == intents.MORE:
        await next_page(update, context, listing)
    elif intent.kind == intents.SUBSCRIBE:
        await send_reply(update, context, await with_engine(services, subscribe_offer, message))
    elif intent.kind == intents.UNSUBSCRIBE:
        await send_reply(update, context, replies.notice(replies.UNSUBSCRIBE_HINT))


async def open_listed(update: Update, context: ContextTypes.DEFAULT_TYPE, listing: Listing, number: int) -> None:
    """A bare number: the article listed under it."""
    article_id = listing.pick(number)
    if article_id is None:
        await send_reply(
            update, context, replies.notice(replies.PICK_NUMBER.format(first=listing.first, last=listing.last))
        )
        return
    article = await with_engine(services_from(context), SearchEngine.article, article_id)
    if article is None:
        await send_reply(update, context, replies.notice(replies.ARTICLE_GONE))
        return
    await send_reply(update, context, article_pages.article_reply(article, 0))


async def next_page(update: Update, context: ContextTypes.DEFAULT_TYPE, listing: Listing | None) -> None:
    """更多: the next page of the last question's results, as a new message."""
    if listing is None or not listing.question:
        await send_reply(
            update, context, replies.notice(replies.NO_QUESTION_YET if listing is None else replies.NO_MORE)
        )
        return
    services = services_from(context)
    per_page = services.settings.search.results_per_page
    offset = listing.offset + len(listing.article_ids)
    response = await with_engine(services, SearchEngine.search, listing.question, per_page, offset)
    if not response.results:
        await send_reply(update, context, replies.notice(replies.NO_MORE))
        return
    chat_id = update.effective_chat.id if update.effective_chat else None
    remember_results(services, chat_id, response, listing.query_id)
    await send_reply(update, context, replies.results_reply(response, listing.query_id, per_page))


def command_argument(message: Message | None) -> str:
    """Everything after the command word (`/ask@bot  a b` -> 'a b'), kept whole."""
    if message is None or not message.text:
        return ""
    parts = message.text.split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""


async def send_latest(update: Update, context: ContextTypes.DEFAULT_TYPE, wanted: str) -> None:
    """Send /latest's reply, remembering its numbers for a bare number typed next."""
    services = services_from(context)
    reply, ids = await with_engine(services, latest_reply, wanted)
    if ids and update.effective_chat is not None:
        listings(services).remember(update.effective_chat.id, Listing(ids))
    await send_reply(update, context, reply)


class MentionsMe(filters.MessageFilter):
    """Messages whose text mentions this bot by @username."""

    def filter(self, message: Message) -> bool:
        try:
            username = message.get_bot().username
        except RuntimeError:  # the bot is not initialised yet: nothing can mention it
            return False
        return bool(username and message.text and f"@{username}".lower() in message.text.lower())


MENTIONS_ME = MentionsMe(name="MentionsMe")


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start: a welcome with example questions; `/start a<digest>` (a shared link) opens an article."""
    payload = context.args[0] if context.args else ""
    if payload.startswith("a") and len(payload) == 13:
        services = services_from(context)
        article = await with_engine(services, find_article, services, callbacks.Ref(digest=payload[1:]))
        if article is not None:
            await send_reply(update, context, article_pages.article_reply(article, 0))
            return
    await send_reply(update, context, replies.welcome_reply())


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: what the bot understands."""
    await send_reply(update, context, replies.help_reply())


async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ask 问题: answer a question (how to ask in groups); replying /ask to a message asks its text."""
    message = update.effective_message
    question = command_argument(message)
    if not question and message is not None and message.reply_to_message is not None:
        question = (message.reply_to_message.text or "").strip()
    if not question:
        await send_reply(update, context, replies.notice(replies.ASK_USAGE))
        return
    await handle_text(update, context, question)


async def latest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/latest [街道]: the headlines of the newest issue (of a street)."""
    if not await allowed(update, context):
        return
    await send_latest(update, context, command_argument(update.effective_message))


async def subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/subscribe [街道|全部]: subscribe to new issues; without a street, offer the streets as buttons."""
    chat = update.effective_chat
    assert chat is not None
    services = services_from(context)
    wanted = command_argument(update.effective_message)
    streets = await with_engine(services, SearchEngine.streets)
    if not wanted:
        await send_reply(update, context, replies.choose_street_reply(streets))
        return
    if wanted.lower() in ALL_WORDS:
        chosen = [subscriptions.ALL_STREETS]
    else:
        found = resolve_street(streets, wanted)
        if len(found) != 1:
            await send_reply(update, context, replies.unknown_street_reply(wanted, found or streets, "subscribe"))
            return
        chosen = found
    await send_reply(update, context, await asyncio.to_thread(subscribe_reply, services, chat.id, chosen))


async def unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/unsubscribe [街道]: stop one street, or everything."""
    chat = update.effective_chat
    assert chat is not None
    wanted = command_argument(update.effective_message)
    await send_reply(
        update, context, await asyncio.to_thread(unsubscribe_reply, services_from(context), chat.id, wanted)
    )


async def mysubs(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/mysubs: what this chat is subscribed to."""
    chat = update.effective_chat
    assert chat is not None
    await send_reply(update, context, await asyncio.to_thread(mysubs_reply, services_from(context), chat.id))


async def question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any text in a private chat is a question."""
    message = update.effective_message
    if message is None or not message.text or claimed_earlier(update, context):
        return
    if message.via_bot is not None and message.via_bot.id == context.bot.id:
        return  # an article the resident shared from inline mode, not a question
    await handle_text(update, context, message.text)


async def mention(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A group message that mentions the bot is a question."""
    message = update.effective_message
    if message is None or not message.text or claimed_earlier(update, context):
        return
    asked = re.sub(re.escape("@" + context.bot.username), " ", message.text, flags=re.IGNORECASE).strip()
    if not asked:
        await send_reply(update, context, replies.notice(replies.GROUP_USAGE))
        return
    await handle_text(update, context, asked)


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice, files...: a polite 'text questions only'."""
    if claimed_earlier(update, context) or not await allowed(update, context):
        return
    await send_reply(update, context, replies.notice(replies.TEXT_ONLY))


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command nobody handles: point to /help."""
    if claimed_earlier(update, context) or not await allowed(update, context):
        return
    await send_reply(update, context, replies.notice(replies.UNKNOWN_COMMAND))
