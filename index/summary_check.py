"""Checking summary lines: the properties every broadcast line must have, measured on an issue
or on a sample of archived news (`newsbot summary --check`), for this method and the previous one;
and the digest as a whole: its heading names the newspaper (or street) and month, no line repeats
its headline, and every article (headline and line) fits a phone screen.
"""

from __future__ import annotations

import json
import lzma
import math
import unicodedata
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from index import clauses as cl
from index.article import Article, lead_headline
from index.lead_debris import strip_debris
from index.normalize import for_display
from index.summary import MAX_CHARS, repeats_headline

CHECKS = ("whole", "length", "opener", "date")


@dataclass(frozen=True)
class LineCheck:
    """Which properties one line has (see `check_line`)."""

    line: str
    whole: bool
    length: bool
    opener: bool
    date: bool

    @property
    def passed(self) -> bool:
        """True when the line has every property."""
        return self.whole and self.length and self.opener and self.date


def article_lead(article: Article, first_sentence: bool = False) -> str:
    """The lead the date check compares with: the first paragraph (or only the first sentence,
    crawl debris such as a page timestamp or 原标题 taken off: their dates are not the lead's)."""
    if first_sentence:
        body = strip_debris(article.body)
        found = cl.sentences(body)
        return found[0] if found else body
    found = cl.paragraphs(article.body)
    return found[0] if found else article.body


def check_line(line: str, lead: str) -> LineCheck:
    """Whole clause, at most MAX_CHARS, no back-referring opener, and the lead's date kept."""
    date = cl.lead_date(lead)
    squeezed = "".join(line.split())
    return LineCheck(
        line=line,
        whole=cl.is_whole(line),
        length=len(line) <= MAX_CHARS,
        opener=cl.back_referring_opener(line) is None,
        date=date is None or date in squeezed,
    )


def tally(checks: Iterable[LineCheck]) -> dict[str, int]:
    """How many lines have each property, and all of them."""
    rows = list(checks)
    out = {"lines": len(rows), "passed": sum(c.passed for c in rows)}
    for name in CHECKS:
        out[name] = sum(bool(getattr(c, name)) for c in rows)
    return out


def bench_sample(archive: Path, size: int = 200, min_chars: int = 200) -> list[Article]:
    """`size` articles spread evenly over a news JSONL archive (texts of at least min_chars)."""
    records = list(_records(archive))
    stride = max(1, len(records) // size)
    out: list[Article] = []
    for number in range(0, len(records), stride):
        record_id, text = records[number]
        body = for_display(text)
        if len(body) < min_chars:
            continue
        out.append(Article(id=record_id, headline=lead_headline(body), body=body, derived_headline=True))
        if len(out) >= size:
            break
    return out


def _records(archive: Path) -> Iterator[tuple[str, str]]:
    xz = archive.name.endswith(".xz")
    with lzma.open(archive, "rt", encoding="utf-8") if xz else archive.open(encoding="utf-8") as handle:
        for number, raw in enumerate(handle):
            try:
                record = json.loads(raw)
            except json.JSONDecodeError:
                continue
            text = record.get("text") if isinstance(record, dict) else None
            if isinstance(text, str) and text.strip():
                yield str(record.get("id") or number), text


# --- the digest as a whole ---------------------------------------------------------------

# A phone held upright shows about 16 Chinese characters a line in a Telegram message bubble at
# the default text size, and some 18 lines of text on screen beside the chat's header and input.
SCREEN_COLUMNS = 16
SCREEN_ROWS = 18


def screen_rows(text: str, columns: int = SCREEN_COLUMNS) -> int:
    """Lines the text takes in a message bubble: wide characters count 1, others half."""
    rows = 0
    for paragraph in text.split("\n"):
        width = sum(1.0 if unicodedata.east_asian_width(ch) in "WF" else 0.5 for ch in paragraph)
        rows += max(1, math.ceil(width / columns))
    return rows


@dataclass(frozen=True)
class DigestCheck:
    """The digest-level properties of one issue's broadcast."""

    heading: bool
    articles: int
    # 1-based numbers of the articles whose line says no more than their headline.
    repeats: tuple[int, ...]
    # 1-based numbers of the articles (headline + line) taller than a phone screen.
    too_tall: tuple[int, ...]
    tallest: int

    @property
    def passed(self) -> bool:
        """True when the heading is right and every article passes."""
        return self.heading and not self.repeats and not self.too_tall


def check_digest(heading: str, name: str, month: str, blocks: list[tuple[str, str]]) -> DigestCheck:
    """Heading carries `name` (newspaper or street) and `month` (as shown); per (headline, line):
    no repeat of the headline and at most SCREEN_ROWS rows."""
    squeezed = "".join(heading.split())
    heights = [screen_rows(f"{headline}\n{line}") for headline, line in blocks]
    return DigestCheck(
        heading=bool(name) and bool(month) and "".join(name.split()) in squeezed and "".join(month.split()) in squeezed,
        articles=len(blocks),
        repeats=tuple(n for n, (headline, line) in enumerate(blocks, 1) if repeats_headline(line, headline)),
        too_tall=tuple(n for n, rows in enumerate(heights, 1) if rows > SCREEN_ROWS),
        tallest=max(heights, default=0),
    )
