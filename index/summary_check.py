"""Checking summary lines: the properties every broadcast line must have, measured on an issue
or on a sample of archived news (`newsbot summary --check`), for this method and the previous one.
"""

from __future__ import annotations

import json
import lzma
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from pathlib import Path

from index import clauses as cl
from index.article import Article, lead_headline
from index.normalize import for_display
from index.summary import MAX_CHARS

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
    """The lead the date check compares with: the first paragraph (or only the first sentence)."""
    if first_sentence:
        found = cl.sentences(article.body)
        return found[0] if found else article.body
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
