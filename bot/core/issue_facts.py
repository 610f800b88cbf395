"""What staff say about an issue, checked the same way in the bot and on the command line: which
street (known streets, newspaper names, or a new street said to be new), which month (read from
the issue's own dates and file name first, validated), and which issue of the corpus it repeats
or corrects. No Telegram here: `bot.edge.staff` and `bot.cli.commands` both call it.
"""

from __future__ import annotations

import datetime as dtm
import re
from collections import Counter
from dataclasses import dataclass

from index.issue_catalog import street_matches
from index.records import Issue

STREET_SUFFIXES = ("街道", "镇", "乡", "街", "路", "村", "社区")
# Months more than this far after today are typos until staff confirm them.
FUTURE_MONTHS_ALLOWED = 1

MONTH_RE = re.compile(r"(?<!\d)(\d{4})\s*(?:[-/.年_]\s*(\d{1,2})\s*月?|(\d{2})(?!\d))")
_DATE_IN_TEXT_RE = re.compile(r"(?<!\d)(20\d{2}|19\d{2})\s*年\s*(\d{1,2})\s*月")


def parse_month(text: str) -> str | None:
    """'2020-06', '2020-6', '2020年6月', '2020.06', '202006' -> '2020-06' (None if none or invalid)."""
    match = MONTH_RE.search(text)
    if not match:
        return None
    year, month = int(match.group(1)), int(match.group(2) or match.group(3))
    if not 1 <= month <= 12 or not 1900 <= year <= 2100:
        return None
    return f"{year:04d}-{month:02d}"


def months_from_issue(text: str, file_name: str = "") -> list[str]:
    """Months the issue names itself, most likely first: its file name, then its dates.

    A masthead date is usually the latest date printed, so among the dates in the text the
    latest comes first (earlier dates report what happened before the issue went out).
    """
    found: list[str] = []
    named = parse_month(re.sub(r"[^\d年月.\-_/]+", " ", file_name))
    if named:
        found.append(named)
    counts: Counter[str] = Counter()
    for match in _DATE_IN_TEXT_RE.finditer(text):
        year, month = int(match.group(1)), int(match.group(2))
        if 1 <= month <= 12:
            counts[f"{year:04d}-{month:02d}"] += 1
    for candidate in sorted(counts, reverse=True):
        if candidate not in found:
            found.append(candidate)
    return found


def month_problem(month: str, today: dtm.date) -> str | None:
    """Why a YYYY-MM month needs a second look: 'invalid', 'future' (far ahead of today), or None."""
    if parse_month(month) != month:
        return "invalid"
    year, number = int(month[:4]), int(month[5:])
    ahead = (year - today.year) * 12 + (number - today.month)
    return "future" if ahead > FUTURE_MONTHS_ALLOWED else None


@dataclass
class StreetChoice:
    """The street a name resolves to, or the known streets it could mean."""

    street: str | None
    choices: list[str]
    new: bool = False


def resolve_street(
    word: str, known_streets: list[str], newspapers: dict[str, str] | None = None, allow_new: bool = False
) -> StreetChoice:
    """A street name as staff type it: exact, a newspaper's name, or a unique partial match.

    An unknown name counts as a new street only when `allow_new` (the caller asked staff) or,
    for captions, when it looks like a street name (ends in 街道, 镇...).
    """
    word = word.strip()
    if not word:
        return StreetChoice(None, [])
    if word in known_streets:
        return StreetChoice(word, [])
    if newspapers and word in newspapers:
        return StreetChoice(newspapers[word], [])
    matching = [s for s in known_streets if street_matches(s, word)]
    if len(matching) == 1:
        return StreetChoice(matching[0], [])
    if matching:
        return StreetChoice(None, matching)
    if allow_new:
        return StreetChoice(word, [], new=True)
    return StreetChoice(None, [])


def newspapers_of(issues: list[Issue]) -> dict[str, str]:
    """Newspaper name -> street, from the issues in the index."""
    return {i.newspaper: i.street for i in issues if i.newspaper and i.street}


def looks_like_street(word: str) -> bool:
    return any(word.endswith(x) and len(word) > len(x) for x in STREET_SUFFIXES)


def same_street_and_month(issues: list[Issue], street: str, month: str) -> Issue | None:
    """The issue already published for this street and month, if any (a correction candidate)."""
    if not month:
        return None
    for issue in issues:
        if issue.month == month and issue.street == street:
            return issue
    return None


# A caption's labels ("街道：", "月份=") and the separators between its words.
CAPTION_LABEL_RE = re.compile(r"(街道|月份|月|street|month)\s*[:：=]", re.IGNORECASE)
CAPTION_SPLIT_RE = re.compile(r"[\s,，、;；/|]+")
