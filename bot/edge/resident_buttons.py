"""Residents' button presses (全文 and its pages, 更多结果, 订阅, 最新一期, 退订, 设置) and inline
mode (@bot 问题 in any chat).
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass

from telegram import (
    InlineKeyboardButton,
    InlineKeyboardMarkup,
    InlineQueryResultArticle,
    InlineQueryResultsButton,
    InputTextMessageContent,
    Update,
)

from bot.core import callbacks, messages, replies, subscriptions
from bot.core.replies import articles
from bot.core.resident_actions import find_article, settings_reply, subscribe_reply, unsubscribe_ref_reply
from bot.core.services import BotServices
from bot.edge.context import BotContext
from bot.edge.resident_common import (
    allowed,
    edit_reply,
    remember_results,
    send_reply,
    with_engine,
)
from bot.edge.resident_messages import answer_question, send_latest
from index.search import SearchEngine

log = logging.getLogger(__name__)

INLINE_RESULTS = 10


INLINE_MAX_OFFSET = 200


@dataclass
class Pressed:
    update: Update
    context: BotContext
    services: BotServices


async def open_article(p: Pressed, ref: callbacks.Ref, page: int | None) -> None:
    """Send an article (page None) as a new message, or show another page in place."""
    query = p.update.callback_query
    assert query is not None
    article = await with_engine(p.context, find_article, p.services, ref)
    if article is None:
        await query.answer(replies.ARTICLE_GONE, show_alert=True)
        return
    await query.answer()
    if page is None:
        await send_reply(p.update, p.context, articles.article_reply(article, 0))
    else:
        await edit_reply(p.update, articles.article_reply(article, page))


async def more_results(p: Pressed, action: callbacks.MoreResults) -> None:
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
    response = await with_engine(p.context, SearchEngine.search, asked, per_page, action.offset)
    if not response.results:
        await query.answer(replies.NO_MORE)
        return
    await query.answer()
    await remember_results(p.context.bot_data, chat_id, response, action.query_id)
    await edit_reply(p.update, replies.results_reply(response, action.query_id, per_page))


async def subscribe_button(p: Pressed, ref: callbacks.Ref | None) -> None:
    """Subscribe the chat to the street on the button, replacing the street list."""
    query, chat = p.update.callback_query, p.update.effective_chat
    assert query is not None
    if chat is None:  # a press on a message sent via inline mode: there is no chat to subscribe
        await query.answer(replies.EXPIRED, show_alert=True)
        return
    if ref is None:
        chosen = [subscriptions.ALL_STREETS]
    else:
        chosen = [s for s in await with_engine(p.context, SearchEngine.streets) if ref.matches(s)][:1]
        if not chosen:
            await query.answer(replies.EXPIRED, show_alert=True)
            return
    await query.answer()
    await edit_reply(p.update, await asyncio.to_thread(subscribe_reply, p.services, chat.id, chosen))


async def latest_button(p: Pressed, ref: callbacks.Ref | None) -> None:
    """Send the newest issue of the street on the button."""
    query = p.update.callback_query
    assert query is not None
    wanted = ""
    if ref is not None:
        wanted = next((s for s in await with_engine(p.context, SearchEngine.streets) if ref.matches(s)), "")
        if not wanted:
            await query.answer(replies.EXPIRED, show_alert=True)
            return
    await query.answer()
    await send_latest(p.update, p.context, wanted)


async def subscription_button(p: Pressed, action: callbacks.Unsubscribe | callbacks.ShowSettings) -> None:
    """退订 or 设置 under a broadcast: answered in a new message, the broadcast stays as it is."""
    query, chat = p.update.callback_query, p.update.effective_chat
    assert query is not None
    if chat is None:
        await query.answer(replies.EXPIRED, show_alert=True)
        return
    await query.answer()
    if isinstance(action, callbacks.Unsubscribe):
        reply = await asyncio.to_thread(unsubscribe_ref_reply, p.services, chat.id, action.street)
    else:
        streets = await with_engine(p.context, SearchEngine.streets)
        reply = await asyncio.to_thread(settings_reply, p.services, chat.id, streets)
    await send_reply(p.update, p.context, reply)


async def button(update: Update, context: BotContext) -> None:
    """A press on one of our inline buttons: decode its data and do what it says."""
    query = update.callback_query
    assert query is not None
    services = context.services
    action = callbacks.decode(query.data, services.settings.telegram.button_days)
    pressed = Pressed(update, context, services)
    if isinstance(action, callbacks.Expired):
        log.info("expired button (%s): %r", action.reason, query.data)
        await query.answer(replies.EXPIRED, show_alert=True)
    elif not await allowed(update, context):
        return
    elif isinstance(action, callbacks.OpenArticle):
        await open_article(pressed, action.article, None)
    elif isinstance(action, callbacks.TurnPage):
        await open_article(pressed, action.article, action.page)
    elif isinstance(action, callbacks.MoreResults):
        await more_results(pressed, action)
    elif isinstance(action, callbacks.Subscribe):
        await subscribe_button(pressed, action.street)
    elif isinstance(action, callbacks.Latest):
        await latest_button(pressed, action.street)
    elif isinstance(action, callbacks.Unsubscribe | callbacks.ShowSettings):
        await subscription_button(pressed, action)
    elif isinstance(action, callbacks.Example):
        if action.number >= len(replies.EXAMPLE_QUESTIONS):
            await query.answer(replies.EXPIRED, show_alert=True)
            return
        await query.answer()
        await answer_question(update, context, replies.EXAMPLE_QUESTIONS[action.number], paced=False)


async def stale_button(update: Update, context: BotContext) -> None:
    """A button nobody recognises (an old format, or data we never made): say it expired."""
    query = update.callback_query
    if query is None:
        return
    await query.answer(replies.EXPIRED, show_alert=True)


async def inline_query(update: Update, context: BotContext) -> None:
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
    response = await with_engine(context, SearchEngine.search, asked, INLINE_RESULTS, offset)
    username = context.bot.username
    results = []
    for result in response.results:
        article = result.article
        key = callbacks.digest(article.id)
        results.append(
            InlineQueryResultArticle(
                id=key,
                title=replies.headline_of(article),
                description=messages.render_plain([replies.meta_line(article)]) + "\n" + result.snippet.text,
                input_message_content=InputTextMessageContent(articles.share_html(result)),
                reply_markup=InlineKeyboardMarkup(
                    [[InlineKeyboardButton("📖 阅读全文", url=f"https://t.me/{username}?start=a{key}")]]
                ),
            )
        )
    end = offset + len(results)
    hint = None
    if not results and offset == 0:
        hint = InlineQueryResultsButton("没有找到相关报道，点这里私聊提问", start_parameter="inline")
    # No more pages: next_offset left out, not "" (PTB 22.8 with Defaults sends "" as "[]": it
    # reads the empty string as an empty list of poll options).
    more = str(end) if end < response.total else None
    await query.answer(results, cache_time=60, next_offset=more, button=hint)
