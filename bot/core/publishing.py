"""Publishing a new issue: check an upload, summarise it, add it to the corpus and the index,
and queue its broadcast. Shared by the bot (`bot.edge.staff`) and `newsbot publish`
(`queue_broadcast_from_cli`), so both send residents the same message.

These functions block (parsing, disk, SQLite): the bot calls them in a worker thread.
"""

from __future__ import annotations

import html
import json
import logging
from dataclasses import dataclass
from pathlib import Path

from bot.core import messages, replies, staff_texts
from bot.core.broadcasts import AlreadyBroadcast, queue_broadcast
from bot.core.dates import month_label
from bot.core.settings import Settings
from bot.core.state import Database
from bot.core.subscriptions import subscribers_for
from index.article import Article
from index.dedupe import duplicate_in
from index.issue_catalog import street_matches
from index.maintenance import EngineHolder
from index.manifest import read_manifest
from index.publish import DuplicateIssue, parse_text, publish_issue, replace_issue
from index.records import Issue
from index.search import SearchEngine
from index.summary import summary_lines

log = logging.getLogger(__name__)

# Room is left under Telegram's 4096 characters for the preview's header around the summary.
MAX_SUMMARY_CHARS = 3500
# Telegram allows 100 buttons under a message; 全文 buttons beyond a screenful help nobody.
MAX_ARTICLE_BUTTONS = 20


@dataclass
class Draft:
    """A parsed upload waiting for staff to press Publish."""

    issue: Issue
    articles: list[Article]
    text: str
    lines: list[tuple[Article, str]]
    # The uploaded PDF, kept beside the extracted text in the corpus.
    original_pdf: bytes | None = None


def issue_title(issue: Issue) -> str:
    """How staff and residents see an issue named: newspaper (or street) and month."""
    return " ".join(p for p in (issue.newspaper or issue.street or issue.id, month_label(issue.month)) if p)


def duplicate_of(corpus_dir: Path, text: str) -> str | None:
    """The corpus file that already holds this issue (same text up to whitespace and widths), if any."""
    return duplicate_in(corpus_dir, text)


def duplicate_of_issue(corpus_dir: Path, same: str) -> DuplicateIssue:
    """The refusal of an upload whose text is the corpus file `same`, naming that issue as
    staff know it (newspaper or street, and month, from the manifest)."""
    facts, _ = read_manifest(corpus_dir)
    entry = facts.get(same, {})
    title = " ".join(
        p
        for p in (str(entry.get("newspaper") or entry.get("street") or ""), month_label(str(entry.get("month", ""))))
        if p
    )
    return DuplicateIssue(same, title)


def prepare(
    engine: SearchEngine,
    corpus_dir: Path,
    data: bytes,
    text: str,
    file_name: str,
    street: str,
    month: str,
    district: str = "",
    newspaper: str = "",
) -> Draft:
    """Check and parse an upload (its text read once, on arrival) into a draft; raises PublishError."""
    issue, articles, text = parse_text(text, file_name, street, month, district, newspaper)
    same = duplicate_of(corpus_dir, text)
    if same is not None:
        raise duplicate_of_issue(corpus_dir, same)
    original = data if file_name.lower().endswith(".pdf") else None
    return Draft(issue, articles, text, summary_lines(articles), original)


def _broadcast_parts(issue: Issue, lines: list[tuple[Article, str]]) -> tuple[list[str], list[Article]]:
    """The broadcast's blocks of text and the articles they show (as many as fit)."""
    head = replies.broadcast_head(html.escape(issue_title(issue)))
    if issue.newspaper and issue.street:
        head += f"\n{html.escape(issue.street)}"
    foot = replies.BROADCAST_FOOT
    parts = [head]
    shown: list[Article] = []
    size = len(head) + len(foot) + 40
    for article, sentence in lines:
        block = f"<b>{html.escape(article.title)}</b>\n{html.escape(sentence)}"
        if size + len(block) + 2 > MAX_SUMMARY_CHARS or len(shown) == MAX_ARTICLE_BUTTONS:
            parts.append(replies.more_articles(len(lines) - len(shown)))
            break
        parts.append(block)
        shown.append(article)
        size += len(block) + 2
    parts.append(foot)
    return parts, shown


def broadcast_text(issue: Issue, lines: list[tuple[Article, str]]) -> str:
    """The message subscribers receive (HTML): the issue's headlines and key sentences."""
    return "\n\n".join(_broadcast_parts(issue, lines)[0])


def broadcast_markup(street: str, articles: list[Article]) -> str:
    """The broadcast's buttons as Telegram's JSON: 全文 for each article shown, 退订 and 设置."""
    reply = messages.Reply((), replies.broadcast_buttons([(a.id, a.title) for a in articles], street))
    markup = reply.keyboard_json()
    assert markup is not None
    return json.dumps(markup, ensure_ascii=False)


def buttons_line(issue: Issue, lines: list[tuple[Article, str]]) -> str:
    """The broadcast's buttons as the preview shows them."""
    shown = len(_broadcast_parts(issue, lines)[1])
    return staff_texts.buttons_line(shown, issue.street)


def preview_text(draft: Draft, file_name: str, recipients: int, correction: bool = False) -> str:
    """What staff check before pressing Publish (HTML); a correction is not pushed again."""
    issue = draft.issue
    return staff_texts.preview(
        file_name,
        issue.street,
        month_label(issue.month),
        issue.district,
        len(draft.articles),
        recipients,
        correction,
        broadcast_text(issue, draft.lines),
        buttons_line(issue, draft.lines),
    )


def recipients_for(db: Database, street: str) -> list[int]:
    """Active subscribers of the street and of every street."""
    return subscribers_for(db, street, street_matches)


def publish(holder: EngineHolder, draft: Draft, another_of_month: bool = False) -> None:
    """Add the draft to the corpus and the index (no rebuild) and start answering from it."""
    publish_issue(
        holder.corpus_dir,
        holder.index_dir,
        draft.issue,
        draft.articles,
        draft.text,
        draft.original_pdf,
        another_of_month=another_of_month,
    )
    holder.reload()


def publish_correction(holder: EngineHolder, draft: Draft, old_file: str) -> None:
    """Replace the corpus file `old_file` by the draft in the corpus and the index, then answer from it."""
    replace_issue(
        holder.corpus_dir, holder.index_dir, old_file, draft.issue, draft.articles, draft.text, draft.original_pdf
    )
    holder.reload()


def queue_issue(
    db: Database,
    issue: Issue,
    lines: list[tuple[Article, str]],
    created_by: int | None = None,
    report_chat_id: int | None = None,
) -> tuple[int, int]:
    """Queue the broadcast of a published issue: (broadcast id, subscribers queued)."""
    parts, shown = _broadcast_parts(issue, lines)
    return queue_broadcast(
        db,
        issue.id,
        issue.street,
        issue_title(issue),
        "\n\n".join(parts),
        recipients_for(db, issue.street),
        created_by=created_by,
        report_chat_id=report_chat_id,
        markup=broadcast_markup(issue.street, shown),
    )


def queue_correction_notice(
    db: Database,
    issue: Issue,
    articles: list[Article],
    created_by: int | None = None,
    report_chat_id: int | None = None,
) -> tuple[int, int]:
    """Queue the short 更正 notice of a corrected issue (staff's choice): (broadcast id, subscribers)."""
    title = issue_title(issue)
    return queue_broadcast(
        db,
        issue.id,
        issue.street,
        staff_texts.correction_title(title),
        replies.correction_notice_html(title, issue.street),
        recipients_for(db, issue.street),
        created_by=created_by,
        report_chat_id=report_chat_id,
        markup=broadcast_markup(issue.street, articles[:MAX_ARTICLE_BUTTONS]),
    )


def queue_broadcast_from_cli(settings: Settings, issue_id: str, reviewed: list[str] | None = None) -> int | None:
    """Queue the broadcast of an issue `newsbot publish` just added; the running bot sends it.

    `reviewed`: the summary lines staff saw, one per article in print order (default: generated).
    Returns the number of subscribers queued, or None when the issue is unknown or was queued before.
    """
    engine = SearchEngine.open(settings.index_dir, settings.search)
    issue = engine.find_issue(issue_id)
    if issue is None:
        log.warning("cannot broadcast %s: not in the index", issue_id)
        return None
    lines = engine.summary(issue)
    if reviewed is not None:
        if len(reviewed) != len(lines):
            raise ValueError(f"{len(reviewed)} reviewed lines for {len(lines)} articles of {issue_id}")
        lines = [(article, line) for (article, _), line in zip(lines, reviewed, strict=True)]
    db = Database(settings.state_url)
    try:
        _, queued = queue_issue(db, issue, lines)
    except AlreadyBroadcast:
        log.warning("issue %s was broadcast before; not queued again", issue_id)
        return None
    finally:
        db.close()
    return queued
