"""The resident side of the Telegram bot: questions, articles, paging, /latest, subscriptions,
group questions, inline mode, and polite answers to everything else.

Handlers are registered in two steps around the staff module (see `bot.app.build_application`):
`add_resident_handlers` puts commands, button presses and inline queries in group 0;
`add_catch_all_handlers` puts questions and the replies to anything unexpected in group 1, and
those stay silent when a handler of an earlier group (a staff upload, a staff button, a staff
conversation) already took the update. Search, index reloads and SQLite run in worker threads,
so no handler blocks the event loop.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import logging
import re
import time
import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    LinkPreviewOptions,
    Message,
    Update,
)
from telegram.constants import ParseMode
from telegram.error import BadRequest
from telegram.ext import (
    Application,
    CallbackQueryHandler,
    CommandHandler,
    ContextTypes,
    InlineQueryHandler,
    MessageHandler,
    filters,
)

from bot import callbacks, intents, replies, subscriptions
from bot.listings import ChatListings, Listing
from bot.ratelimit import RateLimiter, Verdict
from bot.replies import Reply
from bot.services import BotServices, services_of
from index.article import Article
from index.search import SearchEngine, SearchResponse, street_matches

log = logging.getLogger(__name__)
T = TypeVar("T")

RESIDENT_GROUP = 0
CATCH_ALL_GROUP = 1
# How often (seconds) a question may trigger a check for an index published by another process.
RELOAD_EVERY = 5.0
INLINE_RESULTS = 10
INLINE_MAX_OFFSET = 200
ALL_WORDS = frozenset({"all", "全部", "所有", "全部街道", "*"})
EXTRA_LIMITER = "resident.rate_limiter"
EXTRA_RELOADED = "resident.reload_checked"
EXTRA_DIGESTS = "resident.article_digests"
EXTRA_LISTINGS = "resident.listings"
SHANGHAI = "Asia/Shanghai"
NO_PREVIEW = LinkPreviewOptions(is_disabled=True)


# --- shared helpers -------------------------------------------------------------------------


def _services(context: ContextTypes.DEFAULT_TYPE) -> BotServices:
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
        # Several workers: the resident's next message may reach another one.
        shared = services.db if services.db.shared else None
        found = services.extras[EXTRA_LISTINGS] = ChatListings(db=shared)
    return found


async def _remember(services: BotServices, chat_id: int, listing: Listing) -> None:
    store = listings(services)
    if store.shared:
        await asyncio.to_thread(store.remember, chat_id, listing)
    else:
        store.remember(chat_id, listing)


async def _listing_of(services: BotServices, chat_id: int | None) -> Listing | None:
    store = listings(services)
    if chat_id is None:
        return None
    return await asyncio.to_thread(store.get, chat_id) if store.shared else store.get(chat_id)


async def _remember_results(
    services: BotServices, chat_id: int | None, response: SearchResponse, query_id: int | None
) -> None:
    if chat_id is None or not response.results:
        return
    ids = [r.article.id for r in response.results]
    await _remember(services, chat_id, Listing(ids, response.offset + 1, response.query, query_id, response.offset))


async def _check_for_new_index(services: BotServices) -> None:
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
    await _check_for_new_index(services)
    holder = services.holder

    def leased() -> T:
        # Held for the whole call, so a swap cannot close the engine under this question.
        with holder.lease() as engine:
            return work(engine, *args)

    return await asyncio.to_thread(leased)


async def _send(update: Update, context: ContextTypes.DEFAULT_TYPE, reply: Reply) -> Message | None:
    """Send a reply into the update's chat (quoting the question in groups)."""
    chat = update.effective_chat
    if chat is None:
        return None
    message = update.message
    if message is not None and update.callback_query is None:
        return await message.reply_text(
            reply.html, parse_mode=ParseMode.HTML, reply_markup=reply.markup(), link_preview_options=NO_PREVIEW
        )
    return await context.bot.send_message(
        chat.id, reply.html, parse_mode=ParseMode.HTML, reply_markup=reply.markup(), link_preview_options=NO_PREVIEW
    )


async def _edit(update: Update, reply: Reply) -> None:
    """Replace the message a button was pressed on (pressing the same button twice is fine)."""
    query = update.callback_query
    assert query is not None
    try:
        await query.edit_message_text(
            reply.html, parse_mode=ParseMode.HTML, reply_markup=reply.markup(), link_preview_options=NO_PREVIEW
        )
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


async def _allowed(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """Take a token from the resident's bucket; tells them to slow down (once) when it is empty."""
    who = update.effective_user or update.effective_chat
    if who is None:
        return True
    verdict = rate_limiter(_services(context)).check(who.id)
    if verdict is Verdict.ALLOW:
        return True
    log.info("chat %s is sending too fast (%s)", update.effective_chat.id if update.effective_chat else "-", verdict)
    warn = verdict is Verdict.WARN
    if update.callback_query is not None:
        # A press must always be answered, or the button keeps spinning on the resident's phone.
        await update.callback_query.answer(replies.SLOW_DOWN if warn else None)
    elif warn:
        await _send(update, context, replies.notice(replies.SLOW_DOWN))
    return False


async def _queued(update: Update, context: ContextTypes.DEFAULT_TYPE, services: BotServices) -> bool:
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
        await _send(update, context, replies.notice(replies.QUEUE_FULL.format(seconds=seconds)))
    return False


def _claimed_earlier(update: Update, context: ContextTypes.DEFAULT_TYPE) -> bool:
    """True when a handler of an earlier group (e.g. a staff handler) already took this update."""
    for group, handlers in context.application.handlers.items():
        if group >= CATCH_ALL_GROUP:
            continue
        for handler in handlers:
            check = handler.check_update(update)
            if check is not None and check is not False:
                return True
    return False


def _search_and_log(
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
    services = _services(context)
    if paced and not await _queued(update, context, services):
        return
    chat_id = update.effective_chat.id if update.effective_chat else None
    response, query_id = await with_engine(services, _search_and_log, services, chat_id, question, 0)
    log.info("question in chat %s: %d result(s)", chat_id, response.total)
    await _remember_results(services, chat_id, response, query_id)
    await _send(update, context, replies.answer_reply(response, query_id, services.settings.search.results_per_page))


async def handle_text(update: Update, context: ContextTypes.DEFAULT_TYPE, message: str) -> None:
    """A resident's message: small talk, subscribing, a listed number, 更多, or a question (bot.intents)."""
    intent = intents.recognise(message)
    services = _services(context)
    chat_id = update.effective_chat.id if update.effective_chat else None
    listing = await _listing_of(services, chat_id)
    if intent.kind == intents.QUESTION or (intent.kind == intents.NUMBER and not (listing and listing.article_ids)):
        # A number with nothing listed before it is a question (2019, 110 ...).
        await answer_question(update, context, message)
        return
    if not await _allowed(update, context):
        return
    if intent.kind in intents.SMALL_TALK:
        await _send(update, context, replies.small_talk_reply(intent.kind))
    elif intent.kind == intents.NUMBER and listing is not None:
        await _open_listed(update, context, listing, intent.number)
    elif intent.kind == intents.MORE:
        await _next_page(update, context, listing)
    elif intent.kind == intents.SUBSCRIBE:
        await _send(update, context, await with_engine(services, _subscribe_offer, message))
    elif intent.kind == intents.UNSUBSCRIBE:
        await _send(update, context, replies.notice(replies.UNSUBSCRIBE_HINT))


async def _open_listed(update: Update, context: ContextTypes.DEFAULT_TYPE, listing: Listing, number: int) -> None:
    """A bare number: the article listed under it."""
    article_id = listing.pick(number)
    if article_id is None:
        await _send(update, context, replies.notice(replies.PICK_NUMBER.format(first=listing.first, last=listing.last)))
        return
    article = await with_engine(_services(context), SearchEngine.article, article_id)
    if article is None:
        await _send(update, context, replies.notice(replies.ARTICLE_GONE))
        return
    await _send(update, context, replies.article_reply(article, 0))


async def _next_page(update: Update, context: ContextTypes.DEFAULT_TYPE, listing: Listing | None) -> None:
    """更多: the next page of the last question's results, as a new message."""
    if listing is None or not listing.question:
        await _send(update, context, replies.notice(replies.NO_QUESTION_YET if listing is None else replies.NO_MORE))
        return
    services = _services(context)
    per_page = services.settings.search.results_per_page
    offset = listing.offset + len(listing.article_ids)
    response = await with_engine(services, SearchEngine.search, listing.question, per_page, offset)
    if not response.results:
        await _send(update, context, replies.notice(replies.NO_MORE))
        return
    chat_id = update.effective_chat.id if update.effective_chat else None
    await _remember_results(services, chat_id, response, listing.query_id)
    await _send(update, context, replies.results_reply(response, listing.query_id, per_page))


def _subscribe_offer(engine: SearchEngine, message: str) -> Reply:
    """我想订阅天山路的社区报: that street's button; without a known street, every street's (worker thread)."""
    street = engine.scope_of(message).street
    return replies.subscribe_offer_reply(street) if street else replies.choose_street_reply(engine.streets())


def _command_argument(message: Message | None) -> str:
    """Everything after the command word (`/ask@bot  a b` -> 'a b'), kept whole."""
    if message is None or not message.text:
        return ""
    parts = message.text.split(maxsplit=1)
    return parts[1].strip() if len(parts) > 1 else ""


def resolve_street(streets: list[str], wanted: str) -> list[str]:
    """The streets a resident's words name: an exact match, else every lenient match."""
    wanted = wanted.strip()
    if not wanted:
        return []
    exact = [s for s in streets if s == wanted or s.removesuffix("街道").removesuffix("镇") == wanted]
    return exact or [s for s in streets if street_matches(s, wanted)]


def _date_label(timestamp: float | None) -> str:
    if timestamp is None:
        return "-"
    try:
        zone: dtm.tzinfo = zoneinfo.ZoneInfo(SHANGHAI)
    except zoneinfo.ZoneInfoNotFoundError:
        zone = dtm.timezone(dtm.timedelta(hours=8))
    day = dtm.datetime.fromtimestamp(timestamp, zone)
    return f"{day.year}年{day.month}月{day.day}日"


def latest_for(engine: SearchEngine, wanted: str, open_hint: str | None = None) -> tuple[Reply, list[Article]]:
    """/latest [street]: the reply, and the issue's articles in the order listed (worker thread)."""
    streets = engine.streets()
    street = None
    if wanted and wanted.lower() not in ALL_WORDS:
        found = resolve_street(streets, wanted)
        if len(found) != 1:
            return replies.unknown_street_reply(wanted, found or streets, "latest"), []
        street = found[0]
    issue = engine.latest_issue(street)
    if issue is None:
        return replies.no_issues_reply(), []
    articles = engine.issue_articles(issue)
    if open_hint is None:
        return replies.latest_reply(issue, articles, streets), articles
    return replies.latest_reply(issue, articles, streets, open_hint), articles


def _latest_reply(engine: SearchEngine, wanted: str) -> tuple[Reply, list[str]]:
    """/latest's reply and the ids of the articles it numbers (worker thread)."""
    reply, articles = latest_for(engine, wanted)
    return reply, [a.id for a in articles[: replies.MAX_ISSUE_LINES]]


async def _send_latest(update: Update, context: ContextTypes.DEFAULT_TYPE, wanted: str) -> None:
    """Send /latest's reply, remembering its numbers for a bare number typed next."""
    services = _services(context)
    reply, ids = await with_engine(services, _latest_reply, wanted)
    if ids and update.effective_chat is not None:
        await _remember(services, update.effective_chat.id, Listing(ids))
    await _send(update, context, reply)


def _find_article(engine: SearchEngine, services: BotServices, ref: callbacks.Ref) -> Article | None:
    """The article a button or deep link names (worker thread)."""
    if ref.value is not None:
        return engine.article(ref.value)
    cached = services.extras.get(EXTRA_DIGESTS)
    if not (isinstance(cached, tuple) and cached[0] is engine):
        cached = (engine, {callbacks.digest(article_id): article_id for article_id in engine.index.article_ids()})
        services.extras[EXTRA_DIGESTS] = cached
    article_id = cached[1].get(ref.digest or "")
    return engine.article(article_id) if article_id else None


def _subscribe(services: BotServices, chat_id: int, streets: list[str]) -> Reply:
    """Subscribe and describe the outcome (worker thread)."""
    outcome = subscriptions.subscribe(services.db, chat_id, streets)
    return replies.subscribed_reply(outcome.added, outcome.subscription.streets)


def _unsubscribe(services: BotServices, chat_id: int, wanted: str) -> Reply:
    """Unsubscribe from one street or all (worker thread)."""
    db = services.db
    if not wanted or wanted.lower() in ALL_WORDS:
        return replies.unsubscribed_reply(subscriptions.unsubscribe(db, chat_id), [], None)
    current = subscriptions.subscription_of(db, chat_id).streets
    targets = [s for s in current if s != subscriptions.ALL_STREETS and (s == wanted or street_matches(s, wanted))]
    removed: list[str] = []
    for street in targets:
        removed.extend(subscriptions.unsubscribe(db, chat_id, street))
    left = subscriptions.subscription_of(db, chat_id).streets
    return replies.unsubscribed_reply(removed, left, wanted)


def _mysubs(services: BotServices, chat_id: int) -> Reply:
    """The chat's subscriptions (worker thread)."""
    sub = subscriptions.subscription_of(services.db, chat_id)
    return replies.mysubs_reply(sub.active, sub.streets, _date_label(sub.since))


class _MentionsMe(filters.MessageFilter):
    """Messages whose text mentions this bot by @username."""

    def filter(self, message: Message) -> bool:
        try:
            username = message.get_bot().username
        except RuntimeError:  # the bot is not initialised yet: nothing can mention it
            return False
        return bool(username and message.text and f"@{username}".lower() in message.text.lower())


MENTIONS_ME = _MentionsMe(name="MentionsMe")


# --- commands -------------------------------------------------------------------------------


async def start(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/start: a welcome with example questions; `/start a<digest>` (a shared link) opens an article."""
    payload = context.args[0] if context.args else ""
    if payload.startswith("a") and len(payload) == 13:
        services = _services(context)
        article = await with_engine(services, _find_article, services, callbacks.Ref(digest=payload[1:]))
        if article is not None:
            await _send(update, context, replies.article_reply(article, 0))
            return
    await _send(update, context, replies.welcome_reply())


async def help_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/help: what the bot understands."""
    await _send(update, context, replies.help_reply())


async def ask(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/ask 问题: answer a question (how to ask in groups); replying /ask to a message asks its text."""
    message = update.effective_message
    question = _command_argument(message)
    if not question and message is not None and message.reply_to_message is not None:
        question = (message.reply_to_message.text or "").strip()
    if not question:
        await _send(update, context, replies.notice(replies.ASK_USAGE))
        return
    await handle_text(update, context, question)


async def latest(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/latest [街道]: the headlines of the newest issue (of a street)."""
    if not await _allowed(update, context):
        return
    await _send_latest(update, context, _command_argument(update.effective_message))


async def subscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/subscribe [街道|全部]: subscribe to new issues; without a street, offer the streets as buttons."""
    chat = update.effective_chat
    assert chat is not None
    services = _services(context)
    wanted = _command_argument(update.effective_message)
    streets = await with_engine(services, SearchEngine.streets)
    if not wanted:
        await _send(update, context, replies.choose_street_reply(streets))
        return
    if wanted.lower() in ALL_WORDS:
        chosen = [subscriptions.ALL_STREETS]
    else:
        found = resolve_street(streets, wanted)
        if len(found) != 1:
            await _send(update, context, replies.unknown_street_reply(wanted, found or streets, "subscribe"))
            return
        chosen = found
    await _send(update, context, await asyncio.to_thread(_subscribe, services, chat.id, chosen))


async def unsubscribe(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/unsubscribe [街道]: stop one street, or everything."""
    chat = update.effective_chat
    assert chat is not None
    wanted = _command_argument(update.effective_message)
    await _send(update, context, await asyncio.to_thread(_unsubscribe, _services(context), chat.id, wanted))


async def mysubs(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/mysubs: what this chat is subscribed to."""
    chat = update.effective_chat
    assert chat is not None
    await _send(update, context, await asyncio.to_thread(_mysubs, _services(context), chat.id))


# --- messages -------------------------------------------------------------------------------


async def question(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Any text in a private chat is a question."""
    message = update.effective_message
    if message is None or not message.text or _claimed_earlier(update, context):
        return
    if message.via_bot is not None and message.via_bot.id == context.bot.id:
        return  # an article the resident shared from inline mode, not a question
    await handle_text(update, context, message.text)


async def mention(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A group message that mentions the bot is a question."""
    message = update.effective_message
    if message is None or not message.text or _claimed_earlier(update, context):
        return
    asked = re.sub(re.escape("@" + context.bot.username), " ", message.text, flags=re.IGNORECASE).strip()
    if not asked:
        await _send(update, context, replies.notice(replies.GROUP_USAGE))
        return
    await handle_text(update, context, asked)


async def not_text(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Stickers, photos, voice, files...: a polite 'text questions only'."""
    if _claimed_earlier(update, context) or not await _allowed(update, context):
        return
    await _send(update, context, replies.notice(replies.TEXT_ONLY))


async def unknown_command(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A command nobody handles: point to /help."""
    if _claimed_earlier(update, context) or not await _allowed(update, context):
        return
    await _send(update, context, replies.notice(replies.UNKNOWN_COMMAND))


# --- buttons --------------------------------------------------------------------------------


@dataclass
class _Pressed:
    update: Update
    context: ContextTypes.DEFAULT_TYPE
    services: BotServices


async def _open_article(p: _Pressed, ref: callbacks.Ref, page: int | None) -> None:
    """Send an article (page None) as a new message, or show another page in place."""
    query = p.update.callback_query
    assert query is not None
    article = await with_engine(p.services, _find_article, p.services, ref)
    if article is None:
        await query.answer(replies.ARTICLE_GONE, show_alert=True)
        return
    await query.answer()
    if page is None:
        await _send(p.update, p.context, replies.article_reply(article, 0))
    else:
        await _edit(p.update, replies.article_reply(article, page))


async def _more_results(p: _Pressed, action: callbacks.MoreResults) -> None:
    """Show another page of a logged question's results in place."""
    query = p.update.callback_query
    assert query is not None
    chat_id = p.update.effective_chat.id if p.update.effective_chat else None
    # A row of another chat reads as expired: a forged button shows nobody else's question.
    asked = await asyncio.to_thread(subscriptions.logged_question, p.services.db, action.query_id, chat_id)
    if asked is None:
        await query.answer(replies.EXPIRED, show_alert=True)
        return
    per_page = p.services.settings.search.results_per_page
    response = await with_engine(p.services, SearchEngine.search, asked, per_page, action.offset)
    if not response.results:
        await query.answer(replies.NO_MORE)
        return
    await query.answer()
    await _remember_results(p.services, chat_id, response, action.query_id)
    await _edit(p.update, replies.results_reply(response, action.query_id, per_page))


async def _subscribe_button(p: _Pressed, ref: callbacks.Ref | None) -> None:
    """Subscribe the chat to the street on the button, replacing the street list."""
    query, chat = p.update.callback_query, p.update.effective_chat
    assert query is not None
    if chat is None:  # a press on a message sent via inline mode: there is no chat to subscribe
        await query.answer(replies.EXPIRED, show_alert=True)
        return
    if ref is None:
        chosen = [subscriptions.ALL_STREETS]
    else:
        chosen = [s for s in await with_engine(p.services, SearchEngine.streets) if ref.matches(s)][:1]
        if not chosen:
            await query.answer(replies.EXPIRED, show_alert=True)
            return
    await query.answer()
    await _edit(p.update, await asyncio.to_thread(_subscribe, p.services, chat.id, chosen))


async def _latest_button(p: _Pressed, ref: callbacks.Ref | None) -> None:
    """Send the newest issue of the street on the button."""
    query = p.update.callback_query
    assert query is not None
    wanted = ""
    if ref is not None:
        wanted = next((s for s in await with_engine(p.services, SearchEngine.streets) if ref.matches(s)), "")
        if not wanted:
            await query.answer(replies.EXPIRED, show_alert=True)
            return
    await query.answer()
    await _send_latest(p.update, p.context, wanted)


def _unsubscribe_ref(services: BotServices, chat_id: int, ref: callbacks.Ref) -> Reply:
    """A broadcast's 退订: drop the street on the button (worker thread)."""
    current = subscriptions.subscription_of(services.db, chat_id).streets
    named = next((s for s in current if s != subscriptions.ALL_STREETS and ref.matches(s)), None)
    if named is None and subscriptions.ALL_STREETS in current:
        if ref.matches(subscriptions.ALL_STREETS):
            return _unsubscribe(services, chat_id, "")
        return replies.everything_subscribed_reply(ref.value or "这个街道")
    if named is None:
        return replies.unsubscribed_reply([], current, ref.value or "这个街道")
    return _unsubscribe(services, chat_id, named)


def _settings(services: BotServices, chat_id: int, streets: list[str]) -> Reply:
    """A broadcast's 设置: the chat's streets and the buttons to change them (worker thread)."""
    sub = subscriptions.subscription_of(services.db, chat_id)
    return replies.settings_reply(sub.streets if sub.active else [], streets)


async def _subscription_button(p: _Pressed, action: callbacks.Unsubscribe | callbacks.ShowSettings) -> None:
    """退订 or 设置 under a broadcast: answered in a new message, the broadcast stays as it is."""
    query, chat = p.update.callback_query, p.update.effective_chat
    assert query is not None
    if chat is None:
        await query.answer(replies.EXPIRED, show_alert=True)
        return
    await query.answer()
    if isinstance(action, callbacks.Unsubscribe):
        reply = await asyncio.to_thread(_unsubscribe_ref, p.services, chat.id, action.street)
    else:
        streets = await with_engine(p.services, SearchEngine.streets)
        reply = await asyncio.to_thread(_settings, p.services, chat.id, streets)
    await _send(p.update, p.context, reply)


async def button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A press on one of our inline buttons: decode its data and do what it says."""
    query = update.callback_query
    assert query is not None
    services = _services(context)
    action = callbacks.decode(query.data, services.settings.telegram.button_days)
    pressed = _Pressed(update, context, services)
    if isinstance(action, callbacks.Expired):
        log.info("expired button (%s): %r", action.reason, query.data)
        await query.answer(replies.EXPIRED, show_alert=True)
    elif not await _allowed(update, context):
        return
    elif isinstance(action, callbacks.OpenArticle):
        await _open_article(pressed, action.article, None)
    elif isinstance(action, callbacks.TurnPage):
        await _open_article(pressed, action.article, action.page)
    elif isinstance(action, callbacks.MoreResults):
        await _more_results(pressed, action)
    elif isinstance(action, callbacks.Subscribe):
        await _subscribe_button(pressed, action.street)
    elif isinstance(action, callbacks.Latest):
        await _latest_button(pressed, action.street)
    elif isinstance(action, callbacks.Unsubscribe | callbacks.ShowSettings):
        await _subscription_button(pressed, action)
    elif isinstance(action, callbacks.Example):
        if action.number >= len(replies.EXAMPLE_QUESTIONS):
            await query.answer(replies.EXPIRED, show_alert=True)
            return
        await query.answer()
        await answer_question(update, context, replies.EXAMPLE_QUESTIONS[action.number], paced=False)


async def stale_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A button nobody recognises (an old format, or data we never made): say it expired."""
    query = update.callback_query
    if query is None or _claimed_earlier(update, context):
        return
    await query.answer(replies.EXPIRED, show_alert=True)


# --- inline mode ----------------------------------------------------------------------------


async def inline_query(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Inline mode (`@bot 问题` in any chat): offer matching articles to share."""
    query = update.inline_query
    assert query is not None
    asked = query.query.strip()
    if not asked:
        await query.answer(
            [], cache_time=300, button=InlineQueryResultsButton("输入关键词，搜索社区报", start_parameter="inline")
        )
        return
    offset = int(query.offset) if query.offset.isascii() and query.offset.isdigit() else 0
    offset = min(offset, INLINE_MAX_OFFSET)
    response = await with_engine(_services(context), SearchEngine.search, asked, INLINE_RESULTS, offset)
    username = context.bot.username
    results = []
    for result in response.results:
        article = result.article
        key = callbacks.digest(article.id)
        results.append(
            InlineQueryResultArticle(
                id=key,
                title=replies.headline_of(article),
                description=replies.render_plain([replies.meta_line(article)]) + "\n" + result.snippet.text,
                input_message_content=InputTextMessageContent(
                    replies.share_html(result), parse_mode=ParseMode.HTML, link_preview_options=NO_PREVIEW
                ),
                reply_markup=InlineKeyboardMarkup(
                    [[InlineKeyboardButton("📖 阅读全文", url=f"https://t.me/{username}?start=a{key}")]]
                ),
            )
        )
    end = offset + len(results)
    hint = None
    if not results and offset == 0:
        hint = InlineQueryResultsButton("没有找到相关报道，点这里私聊提问", start_parameter="inline")
    await query.answer(results, cache_time=60, next_offset=str(end) if end < response.total else "", button=hint)


# --- registration ---------------------------------------------------------------------------


def add_resident_handlers(application: Application) -> None:
    """Commands, our buttons and inline mode (group 0, before the staff handlers)."""
    # Commands act on new messages only: editing "/subscribe 天山路" must not subscribe again.
    new_message = filters.UpdateType.MESSAGE
    private = filters.ChatType.PRIVATE & new_message
    for name, callback in (
        ("start", start),
        ("help", help_command),
        ("latest", latest),
        ("subscribe", subscribe),
        ("unsubscribe", unsubscribe),
        ("mysubs", mysubs),
    ):
        application.add_handler(CommandHandler(name, callback, filters=private), RESIDENT_GROUP)
    application.add_handler(CommandHandler("ask", ask, filters=new_message), RESIDENT_GROUP)
    application.add_handler(CallbackQueryHandler(button, pattern=f"^{callbacks.PREFIX}"), RESIDENT_GROUP)
    application.add_handler(InlineQueryHandler(inline_query), RESIDENT_GROUP)


def add_catch_all_handlers(application: Application) -> None:
    """Questions and answers to anything else (group 1, after the staff handlers)."""
    new_message = filters.UpdateType.MESSAGE
    private = filters.ChatType.PRIVATE & new_message
    application.add_handler(MessageHandler(private & filters.TEXT & ~filters.COMMAND, question), CATCH_ALL_GROUP)
    application.add_handler(
        MessageHandler(filters.ChatType.GROUPS & new_message & filters.TEXT & ~filters.COMMAND & MENTIONS_ME, mention),
        CATCH_ALL_GROUP,
    )
    application.add_handler(MessageHandler(private & filters.COMMAND, unknown_command), CATCH_ALL_GROUP)
    application.add_handler(
        MessageHandler(private & ~filters.TEXT & ~filters.StatusUpdate.ALL, not_text), CATCH_ALL_GROUP
    )
    application.add_handler(CallbackQueryHandler(stale_button), CATCH_ALL_GROUP)
