"""A whole article for residents: its header, and its text split into pages that stay well under
Telegram's 4096-character limit, with buttons to turn pages; and the short card inline mode shares.
"""

from __future__ import annotations

import logging

from bot.core import callbacks
from bot.core.messages import (
    Button,
    Line,
    Reply,
    Span,
    render_html,
    render_plain,
    shorten,
    text,
    utf16_length,
    visible_length,
)
from bot.core.replies.answers import headline_of, meta_line
from bot.core.replies.texts import BLANK
from index.article import Article
from index.search_response import SearchResult
from index.snippet import split_sentences

log = logging.getLogger(__name__)

# Visible characters (UTF-16 units, as Telegram counts) on one page of an article; the rest of
# the limit is headroom for the page's header and footer.
PAGE_BUDGET = 3600


def header_lines(article: Article) -> list[Line]:
    lines: list[Line] = []
    if article.kicker:
        lines.append(text(shorten(article.kicker, 200)))
    lines.append(text(Span(shorten(article.headline or article.title or article.id, 200), bold=True)))
    if article.subtitle:
        lines.append(text(shorten(article.subtitle, 200)))
    lines.append(meta_line(article))
    if article.byline:
        lines.append(text(Span(shorten(article.byline, 100), italic=True)))
    return lines


def _pieces(paragraph: str, budget: int) -> list[str]:
    """A paragraph cut into pieces of at most `budget` UTF-16 units, at sentence ends if possible."""
    if utf16_length(paragraph) <= budget:
        return [paragraph]
    pieces: list[str] = []
    current = ""
    for sentence in split_sentences(paragraph) or [paragraph]:
        while utf16_length(sentence) > budget:
            # A "sentence" longer than a page (no punctuation at all): cut it hard.
            cut = budget // 2  # surrogate pairs take two units, so half the budget in characters is safe
            if current:
                pieces.append(current)
                current = ""
            pieces.append(sentence[:cut])
            sentence = sentence[cut:]
        if current and utf16_length(current) + utf16_length(sentence) > budget:
            pieces.append(current)
            current = ""
        current += sentence
    if current:
        pieces.append(current)
    return pieces


def article_blocks(article: Article, budget: int = PAGE_BUDGET) -> list[list[Line]]:
    """The article as blocks that never share a page boundary: header, paragraphs, the end."""
    blocks: list[list[Line]] = [header_lines(article)]
    for paragraph in article.body.split("\n"):
        paragraph = paragraph.strip()
        if paragraph:
            blocks.extend([text(piece)] for piece in _pieces(paragraph, budget))
    tail: list[Line] = []
    if article.source:
        tail.append(text(Span(f"（{shorten(article.source, 100)}）", italic=True)))
    tail.extend(text(f"📷 {shorten(caption, 300)}") for caption in article.captions if caption.strip())
    if tail:
        blocks.append(tail)
    return blocks


def article_pages(article: Article, budget: int = PAGE_BUDGET) -> list[list[Line]]:
    """The article split into pages of at most `budget` visible characters (before headers)."""
    pages: list[list[Line]] = []
    current: list[Line] = []
    size = 0
    for block in article_blocks(article, budget):
        block_size = visible_length(block) + 2  # the blank line that separates blocks
        if current and size + block_size > budget:
            pages.append(current)
            current, size = [], 0
        if current:
            current.append(BLANK)
        current.extend(block)
        size += block_size
    if current:
        pages.append(current)
    return pages


def article_reply(article: Article, page: int, budget: int = PAGE_BUDGET) -> Reply:
    """Page `page` (0-based, clamped) of an article, with previous/next buttons when it has several."""
    pages = article_pages(article, budget)
    page = max(0, min(page, len(pages) - 1))
    lines = list(pages[page])
    if page > 0:
        lines[:0] = [text(Span(headline_of(article), bold=True), "（续）"), BLANK]
    nav: list[Button] = []
    if len(pages) > 1:
        lines.extend([BLANK, text(Span(f"第 {page + 1}/{len(pages)} 页", italic=True))])
        if page > 0:
            nav.append(Button("◀ 上一页", callbacks.turn_page(article.id, page - 1)))
        if page < len(pages) - 1:
            nav.append(Button("下一页 ▶", callbacks.turn_page(article.id, page + 1)))
    return Reply(tuple(lines), (tuple(nav),) if nav else ())


def article_text(article: Article) -> str:
    """The whole article as plain text (the terminal has no page limit)."""
    pages = article_pages(article, budget=10**9)
    return render_plain(pages[0]) if pages else ""


def share_html(result: SearchResult, limit: int = 700) -> str:
    """What an inline-mode result posts into a chat: headline, where and when, the opening."""
    article = result.article
    opening = ""
    for paragraph in article.body.split("\n"):
        paragraph = paragraph.strip()
        if not paragraph:
            continue
        if opening and len(opening) + len(paragraph) > limit:
            break
        opening = (opening + "\n" + paragraph).strip()
    lines = [
        text(Span(shorten(article.headline or article.title, 200), bold=True)),
        meta_line(article),
        BLANK,
        text(shorten(opening, limit)),
    ]
    return render_html(lines)
