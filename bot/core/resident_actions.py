"""What residents can ask for, the same in Telegram and the terminal chat: the latest issue of a
street, subscribing and unsubscribing, their subscriptions and settings, and finding an article
again from a button. Each returns a `Reply`; no `telegram` import here.
"""

from __future__ import annotations

import logging

from bot.core import callbacks, replies, subscriptions
from bot.core.dates import day_label
from bot.core.messages import Reply
from bot.core.services import BotServices, DigestCache
from index.article import Article
from index.issue_catalog import street_matches
from index.search import SearchEngine

log = logging.getLogger(__name__)

ALL_WORDS = frozenset({"all", "全部", "所有", "全部街道", "*"})


def subscribe_offer(engine: SearchEngine, message: str) -> Reply:
    """我想订阅天山路的社区报: that street's button; without a known street, every street's (worker thread)."""
    street = engine.scope_of(message).street
    return replies.subscribe_offer_reply(street) if street else replies.choose_street_reply(engine.streets())


def resolve_street(streets: list[str], wanted: str) -> list[str]:
    """The streets a resident's words name: an exact match, else every lenient match."""
    wanted = wanted.strip()
    if not wanted:
        return []
    exact = [s for s in streets if s == wanted or s.removesuffix("街道").removesuffix("镇") == wanted]
    return exact or [s for s in streets if street_matches(s, wanted)]


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


def latest_reply(engine: SearchEngine, wanted: str) -> tuple[Reply, list[str]]:
    """/latest's reply and the ids of the articles it numbers (worker thread)."""
    reply, articles = latest_for(engine, wanted)
    return reply, [a.id for a in articles[: replies.MAX_ISSUE_LINES]]


def find_article(engine: SearchEngine, services: BotServices, ref: callbacks.Ref) -> Article | None:
    """The article a button or deep link names (worker thread)."""
    if ref.value is not None:
        return engine.article(ref.value)
    cached = services.digests
    if cached is None or cached.engine is not engine:
        ids = {callbacks.digest(article_id): article_id for article_id in engine.index.article_ids()}
        cached = services.digests = DigestCache(engine, ids)
    article_id = cached.ids.get(ref.digest or "")
    return engine.article(article_id) if article_id else None


def subscribe_reply(services: BotServices, chat_id: int, streets: list[str]) -> Reply:
    """Subscribe and describe the outcome (worker thread)."""
    outcome = subscriptions.subscribe(services.db, chat_id, streets)
    return replies.subscribed_reply(outcome.added, outcome.subscription.streets)


def unsubscribe_reply(services: BotServices, chat_id: int, wanted: str) -> Reply:
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


def mysubs_reply(services: BotServices, chat_id: int) -> Reply:
    """The chat's subscriptions (worker thread)."""
    sub = subscriptions.subscription_of(services.db, chat_id)
    return replies.mysubs_reply(sub.active, sub.streets, day_label(sub.since))


def unsubscribe_ref_reply(services: BotServices, chat_id: int, ref: callbacks.Ref) -> Reply:
    """A broadcast's 退订: drop the street on the button (worker thread)."""
    current = subscriptions.subscription_of(services.db, chat_id).streets
    named = next((s for s in current if s != subscriptions.ALL_STREETS and ref.matches(s)), None)
    if named is None and subscriptions.ALL_STREETS in current:
        if ref.matches(subscriptions.ALL_STREETS):
            return unsubscribe_reply(services, chat_id, "")
        return replies.everything_subscribed_reply(ref.value or "这个街道")
    if named is None:
        return replies.unsubscribed_reply([], current, ref.value or "这个街道")
    return unsubscribe_reply(services, chat_id, named)


def settings_reply(services: BotServices, chat_id: int, streets: list[str]) -> Reply:
    """A broadcast's 设置: the chat's streets and the buttons to change them (worker thread)."""
    sub = subscriptions.subscription_of(services.db, chat_id)
    return replies.settings_reply(sub.streets if sub.active else [], streets)
