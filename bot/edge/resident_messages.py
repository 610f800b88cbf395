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
from telegram.ext import filters

from bot.core import callbacks, intents, replies, subscriptions
from bot.core.listings import Listing
from bot.core.replies import articles
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
from bot.edge.context import BotContext
from bot.edge.resident_common import (
    allowed,
    listing_of,
    queued,
    remember_listing,
    remember_results,
    send_reply,
    with_engine,
)
from index.search import SearchEngine
from index.search_response import SearchResponse

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


async def answer_question(update: Update, context: BotContext, question: str, paced: bool = True) -> None:
    """Answer one question in the update's chat: results, nothing found, or what was wrong with it.

    `paced=False` when the caller already took the resident's token for this update.
    """
    services = context.services
    if paced and not await queued(update, context, question):
        return
    chat_id = update.effective_chat.id if update.effective_chat else None
    response, query_id = await with_engine(context, search_and_log, services, chat_id, question, 0)
    log.info("question in chat %s: %d result(s)", chat_id, response.total)
    await remember_results(context.bot_data, chat_id, response, query_id)
    await send_reply(
        update, context, replies.answer_reply(response, query_id, services.settings.search.results_per_page)
    )


async def handle_text(update: Update, context: BotContext, message: str) -> None:
    """A resident's message: small talk, subscribing, a listed number, 更多, or a question (bot.core.intents)."""
    intent = intents.recognise(message)
    chat_id = update.effective_chat.id if update.effective_chat else None
    listing = await listing_of(context.bot_data, chat_id)
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
        await send_reply(update, context, await with_engine(context, subscribe_offer, message))
    elif intent.kind == intents.UNSUBSCRIBE:
        await send_reply(update, context, replies.notice(replies.UNSUBSCRIBE_HINT))


async def open_listed(update: Update, context: BotContext, listing: Listing, number: int) -> None:
    """A bare number: the article listed under it."""
    article_id = listing.pick(number)
    if article_id is None:
        await send_reply(
            update, context, replies.notice(replies.PICK_NUMBER.format(first=listing.first, last=listing.last))
        )
        return
    article = await with_engine(context, SearchEngine.article, article_id)
    if article is None:
        await send_reply(update, context, replies.notice(replies.ARTICLE_GONE))
        return
    await send_reply(update, context, articles.article_reply(article, 0))


async def next_page(update: Update, context: BotContext, listing: Listing | None) -> None:
    """更多: the next page of the last question's results, as a new message."""
    if listing is None or not listing.question:
        await send_reply(
            update, context, replies.notice(replies.NO_QUESTION_YET if listing is None else replies.NO_MORE)
        )
        return
    per_page = context.services.settings.search.results_per_page
    offset = listing.offset + len(listing.article_ids)
    response = await with_engine(context, SearchEngine.search, listing.question, per_page, offset)
    if not response.results:
        await send_reply(update, context, replies.notice(replies.NO_MORE))
        return
    chat_id = update.effective_chat.id if update.effective_chat else None
    await remember_results(context.bot_data, chat_id, response, listing.query_id)
    await send_reply(update, context, replies.results_reply(response, listing.query_id, per_page))


def command_argument(message: Message | None) -> str:
    """Everything after the command word (`/ask@bot  a b` -> 'a b'), kept whole."""
    if message is None or not message.text:
        return ""
    parts = message.text.split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""


async def send_latest(update: Update, context: BotContext, wanted: str) -> None:
    """Send /latest's reply, remembering its numbers for a bare number typed next."""
    reply, ids = await with_engine(context, latest_reply, wanted)
    if ids and update.effective_chat is not None:
        await remember_listing(context.bot_data, update.effective_chat.id, Listing(ids))
    await send_reply(update, context, reply)


def _username(message: Message) -> str | None:
    try:
        return message.get_bot().username
    except RuntimeError:  # the bot is not initialised yet: nothing can name it
        return None


class MentionsMe(filters.MessageFilter):
    """Messages whose text mentions this bot by @username."""

    def filter(self, message: Message) -> bool:
        username = _username(message)
        return bool(username and message.text and f"@{username}".lower() in message.text.lower())


class AddressedToMe(filters.MessageFilter):
    """Commands written for this bot by name (`/foo@this_bot`): in a group, `/foo` alone may be
    another bot's."""

    def filter(self, message: Message) -> bool:
        username = _username(message)
        word = (message.text or "").split(maxsplit=1)[0] if message.text else ""
        return bool(username and word.lower().endswith(f"@{username}".lower()))


MENTIONS_ME = MentionsMe(name="MentionsMe")
ADDRESSED_TO_ME = AddressedToMe(name="AddressedToMe")
# What is left of "@bot ？" once the name is gone: no question.
_NO_QUESTION_RE = re.compile(r"^[\s\W_]*$")


async def start(update: Update, context: BotContext) -> None:
    """/start: a welcome with example questions; `/start a<digest>` (a shared link) opens an article,
    `/start subscribe` and `/start help` (links from a group) the street list and the help."""
    payload = context.args[0] if context.args else ""
    if payload.startswith("a") and len(payload) == 13:
        services = context.services
        article = await with_engine(context, find_article, services, callbacks.Ref(digest=payload[1:]))
        if article is not None:
            await send_reply(update, context, articles.article_reply(article, 0))
            return
    if payload == "subscribe":  # the link under /subscribe in a group
        await send_reply(update, context, replies.choose_street_reply(await with_engine(context, SearchEngine.streets)))
        return
    if payload == "help":
        await send_reply(update, context, replies.help_reply())
        return
    await send_reply(update, context, replies.welcome_reply())


async def help_command(update: Update, context: BotContext) -> None:
    """/help: what the bot understands."""
    await send_reply(update, context, replies.help_reply())


async def ask(update: Update, context: BotContext) -> None:
    """/ask 问题: answer a question (how to ask in groups); replying /ask to a message asks its text."""
    message = update.effective_message
    question = command_argument(message)
    if not question and message is not None and message.reply_to_message is not None:
        question = (message.reply_to_message.text or "").strip()
    if not question:
        await send_reply(update, context, replies.notice(replies.ASK_USAGE))
        return
    await handle_text(update, context, question)


async def latest(update: Update, context: BotContext) -> None:
    """/latest [街道]: the headlines of the newest issue (of a street)."""
    if not await allowed(update, context):
        return
    await send_latest(update, context, command_argument(update.effective_message))


async def subscribe(update: Update, context: BotContext) -> None:
    """/subscribe [街道|全部]: subscribe to new issues; without a street, offer the streets as buttons."""
    chat = update.effective_chat
    assert chat is not None
    services = context.services
    wanted = command_argument(update.effective_message)
    streets = await with_engine(context, SearchEngine.streets)
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


async def unsubscribe(update: Update, context: BotContext) -> None:
    """/unsubscribe [街道]: stop one street, or everything."""
    chat = update.effective_chat
    assert chat is not None
    wanted = command_argument(update.effective_message)
    await send_reply(update, context, await asyncio.to_thread(unsubscribe_reply, context.services, chat.id, wanted))


async def mysubs(update: Update, context: BotContext) -> None:
    """/mysubs: what this chat is subscribed to."""
    chat = update.effective_chat
    assert chat is not None
    await send_reply(update, context, await asyncio.to_thread(mysubs_reply, context.services, chat.id))


async def question(update: Update, context: BotContext) -> None:
    """Any text in a private chat is a question (an edited one is answered again)."""
    message = update.effective_message
    if message is None or not message.text:
        return
    if message.via_bot is not None and message.via_bot.id == context.bot.id:
        return  # an article the resident shared from inline mode, not a question
    await handle_text(update, context, message.text)


async def mention(update: Update, context: BotContext) -> None:
    """A group message that mentions the bot is a question; the bare name gets the usage."""
    message = update.effective_message
    if message is None or not message.text:
        return
    asked = re.sub(re.escape("@" + context.bot.username), " ", message.text, flags=re.IGNORECASE).strip()
    if _NO_QUESTION_RE.match(asked):
        if await allowed(update, context):
            await send_reply(update, context, replies.notice(replies.GROUP_USAGE))
        return
    await handle_text(update, context, asked)


async def group_help(update: Update, context: BotContext) -> None:
    """/help and /start in a group: how to ask there."""
    if await allowed(update, context):
        await send_reply(update, context, replies.group_help_reply(context.bot.username))


async def private_only(update: Update, context: BotContext) -> None:
    """/subscribe, /unsubscribe, /mysubs in a group: explained, with a link to a private chat."""
    message = update.effective_message
    word = (message.text or "/subscribe").split(maxsplit=1)[0].split("@")[0] if message else "/subscribe"
    if await allowed(update, context):
        await send_reply(update, context, replies.group_private_only_reply(word, context.bot.username))


async def edited_command(update: Update, context: BotContext) -> None:
    """An edited command is not run again (editing "/subscribe 天山路" must not subscribe twice)."""
    message = update.effective_message
    word = (message.text or "").split(maxsplit=1)[0].split("@")[0] if message else ""
    if message is not None and word and await allowed(update, context):
        # A new message: the command's earlier answer (its help, its subscription) stays as it was.
        await message.reply_text(replies.notice(replies.EDITED_COMMAND.format(command=word)).html)


async def not_text(update: Update, context: BotContext) -> None:
    """Stickers, photos, voice, files...: a polite 'text questions only'."""
    if await allowed(update, context):
        await send_reply(update, context, replies.notice(replies.TEXT_ONLY))


async def unknown_command(update: Update, context: BotContext) -> None:
    """A command nobody handles: point to /help (in a group, to what works there)."""
    if not await allowed(update, context):
        return
    chat = update.effective_chat
    group = chat is not None and chat.type != chat.PRIVATE
    text = replies.GROUP_UNKNOWN_COMMAND if group else replies.UNKNOWN_COMMAND
    await send_reply(update, context, replies.notice(text))
