"""Answers to questions: results with their headline, street, month and the sentence that answers,
the no-answer reply, 您是不是要找, and the latest issue's headlines.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.core import callbacks
from bot.core.dates import month_label
from bot.core.messages import Button, Line, Reply, Span, shorten, text
from bot.core.replies.texts import (
    BLANK,
    BUTTONS_PER_ROW,
    DEFAULT_NEWSPAPER,
    DID_YOU_MEAN,
    ECHO_CHARS,
    HEADLINE_CHARS,
    MAX_ISSUE_LINES,
    TEXT_ONLY,
)
from index.article import Article
from index.records import Issue
from index.search_response import SearchResponse, SearchResult
from index.snippet import Snippet

log = logging.getLogger(__name__)


def meta_line(article: Article) -> Line:
    """street · newspaper · month."""
    parts = [article.street or article.district, article.newspaper or DEFAULT_NEWSPAPER, month_label(article.date)]
    return text(" · ".join(p for p in parts if p))


def issue_label(issue: Issue) -> str:
    """street · newspaper · month of an issue."""
    parts = [issue.street or issue.district, issue.newspaper or DEFAULT_NEWSPAPER, month_label(issue.month)]
    return " · ".join(p for p in parts if p)


def snippet_line(snippet: Snippet) -> Line:
    """The snippet with its matched words marked."""
    flat = snippet.text.replace("\n", " ")  # same length, so the highlight spans still fit
    spans: list[Span] = []
    last = 0
    for start, end in snippet.highlights:
        if start > last:
            spans.append(Span(flat[last:start]))
        spans.append(Span(flat[start:end], mark=True))
        last = end
    if last < len(flat):
        spans.append(Span(flat[last:]))
    return tuple(spans)


def headline_of(article: Article) -> str:
    """The headline shown in lists (the main headline; the full title when there is none)."""
    return shorten(article.headline or article.title or article.id, HEADLINE_CHARS)


def similar_text(count: int) -> str:
    """Said under a result that stands for near-identical reports of the same story."""
    return f"另有 {count} 篇相似报道"


def result_lines(number: int, result: SearchResult) -> list[Line]:
    """One result: bold numbered headline, where and when, the snippet (and how many like it)."""
    article = result.article
    lines = [
        text(Span(f"{number}. {headline_of(article)}", bold=True)),
        meta_line(article),
        snippet_line(result.snippet),
    ]
    if result.similar:
        lines.append(text(Span(f"（{similar_text(len(result.similar))}）", italic=True)))
    return lines


def _rows(buttons: Sequence[Button], per_row: int) -> tuple[tuple[Button, ...], ...]:
    return tuple(tuple(buttons[i : i + per_row]) for i in range(0, len(buttons), per_row))


def results_header(response: SearchResponse) -> Line:
    """'找到 N 篇相关报道（第 a–b 篇）：'."""
    first, last = response.offset + 1, response.offset + len(response.results)
    where = "" if response.total <= len(response.results) else f"（第 {first}–{last} 篇）"
    if first == last and where:
        where = f"（第 {first} 篇）"
    return text(f"找到 {response.total} 篇相关报道{where}：")


def suggestion_lines(response: SearchResponse) -> list[Line]:
    """'您是不是要找：社区义诊' when a typo in the question was corrected to find the results."""
    if not response.suggestion:
        return []
    return [text(DID_YOU_MEAN.format(suggestion=shorten(response.suggestion, ECHO_CHARS * 2)))]


def results_reply(response: SearchResponse, query_id: int | None, per_page: int) -> Reply:
    """Results of a question (at least one), with buttons to open each and to page."""
    lines: list[Line] = [*suggestion_lines(response), results_header(response)]
    for number, result in enumerate(response.results, start=response.offset + 1):
        lines.append(BLANK)
        lines.extend(result_lines(number, result))
    rows: list[tuple[Button, ...]] = []
    open_row = tuple(
        Button(f"📖 全文 {number}", callbacks.open_article(result.article.id))
        for number, result in enumerate(response.results, start=response.offset + 1)
    )
    rows.append(open_row)
    if query_id is not None:
        nav: list[Button] = []
        if response.offset > 0:
            nav.append(Button("◀ 上一页", callbacks.more_results(query_id, max(0, response.offset - per_page))))
        if response.offset + len(response.results) < response.total:
            nav.append(Button("更多结果 ▶", callbacks.more_results(query_id, response.offset + len(response.results))))
        if nav:
            rows.append(tuple(nav))
    return Reply(tuple(lines), tuple(rows))


def not_found_reply(question: str) -> Reply:
    """Nothing answers the question: say so, suggest /latest and other words."""
    return Reply(
        (
            text(f"没有找到和“{shorten(question, ECHO_CHARS)}”相关的报道。"),
            text("可以换个说法，只写关键词试试，例如：垃圾分类、积水点改造；也可以发送 /latest 看看最新一期社区报。"),
        ),
        ((Button("📰 最新一期", callbacks.latest(None)),),),
    )


def problem_reply(response: SearchResponse) -> Reply:
    """The question could not be searched (empty, or no searchable words)."""
    return Reply((text(response.message or TEXT_ONLY), text("发送 /help 查看用法。")))


def answer_reply(response: SearchResponse, query_id: int | None, per_page: int) -> Reply:
    """Whatever a question gets: results, a problem, or nothing found."""
    if response.problem:
        return problem_reply(response)
    if not response.results:
        return not_found_reply(response.query)
    return results_reply(response, query_id, per_page)


def notice(message: str) -> Reply:
    """A one-line message."""
    return Reply((text(message),))


def latest_reply(
    issue: Issue,
    articles: Sequence[Article],
    other_streets: Sequence[str] = (),
    open_hint: str = "点下面的数字看全文。",
) -> Reply:
    """The headlines of an issue, with a button to open each, and buttons for other streets."""
    lines: list[Line] = [text(Span(f"📰 {issue_label(issue)}", bold=True))]
    shown = list(articles[:MAX_ISSUE_LINES])
    more = len(articles) - len(shown)
    lines.append(text(f"本期共 {len(articles)} 篇" + (f"，这里列出前 {len(shown)} 篇：" if more else "：")))
    for number, article in enumerate(shown, start=1):
        lines.append(text(f"{number}. {headline_of(article)}"))
    rows = list(_rows([Button(str(n), callbacks.open_article(a.id)) for n, a in enumerate(shown, 1)], BUTTONS_PER_ROW))
    if shown:
        lines.extend([BLANK, text(open_hint)])
    others = [s for s in other_streets if s != issue.street][:4]
    if others:
        lines.append(text("看其他街道：/latest 街道名"))
        rows.extend(_rows([Button(f"📰 {s}", callbacks.latest(s)) for s in others], 2))
    return Reply(tuple(lines), tuple(rows))
