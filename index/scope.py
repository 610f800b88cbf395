"""Which street and which month a question is about.

Residents name a street (天山路街道, 天山路, 天山社区晨报) and a time (2019年11月, 六月份, 去年,
最新一期) around what they are looking for. These are not words to match: they say which
issues to look in. `parse_scope` finds them, returns them as a `Scope` and the rest of the
question; times are relative to the newest issue in the index, never to the clock (an archive
of 2019 issues read in 2026 still has a "去年").
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass, field

from index.normalize import for_matching

_CN_DIGITS = {
    "零": 0,
    "〇": 0,
    "一": 1,
    "二": 2,
    "两": 2,
    "三": 3,
    "四": 4,
    "五": 5,
    "六": 6,
    "七": 7,
    "八": 8,
    "九": 9,
}
_MONTH_NUM = r"(?:1[0-2]|0?[1-9]|十[一二]?|[一二三四五六七八九])"
_YEAR_NUM = r"(?:(?:19|20)\d{2}|(?:19|20)?\d{2}|[一二〇零][〇零一二三四五六七八九]{3})"
_FULL_RE = re.compile(rf"({_YEAR_NUM})\s*年\s*({_MONTH_NUM})\s*(?:月份|月)(?:\s*份)?")
_YEAR_ONLY_RE = re.compile(r"((?:19|20)\d{2}|[一二][〇零一二三四五六七八九]{3})\s*年(?:度)?")
_REL_YEAR_MONTH_RE = re.compile(rf"(今年|去年|前年|明年)\s*({_MONTH_NUM})\s*(?:月份|月)")
_MONTH_ONLY_RE = re.compile(rf"(?<![\d年号日])({_MONTH_NUM})\s*(?:月份|月)(?!\s*[\d一二三四五六七八九十]+\s*[日号])")
_REL_YEAR_RE = re.compile(r"今年|去年|前年")
_REL_MONTH_RE = re.compile(r"(?:这|本|上|上上)个?月")
_LATEST_RE = re.compile(r"最新(?:一|的一)?期|最近一期|最新的?报纸|最近(?:的)?(?:报纸)?|最新|上一期|这一期|本期")
_FILLER_RE = re.compile(r"(?:的)?(?:社区报|报纸|晨报|小报)(?:上|里|中)?")


@dataclass
class Scope:
    """A question's street and time, and what is left of it."""

    street: str = ""  # the canonical street name as the index spells it
    months: set[str] = field(default_factory=set)  # "YYYY-MM"
    years: set[str] = field(default_factory=set)  # "YYYY", when no month was said
    latest: bool = False  # 最新一期 / 最近: the newest issue (of the street)
    rest: str = ""  # the question without the street and time expressions
    mentions: list[str] = field(default_factory=list)  # the text recognised, in order

    @property
    def has_time(self) -> bool:
        """Whether the question says when."""
        return bool(self.months or self.years or self.latest)

    @property
    def active(self) -> bool:
        """Whether the question names a street or a time."""
        return bool(self.street) or self.has_time

    def month_matches(self, month: str) -> bool:
        """Whether an article's month ("YYYY-MM", or a longer date) is within the time asked."""
        if not self.months and not self.years:
            return True
        month = month[:7]
        return month in self.months or month[:4] in self.years


def _number(text: str) -> int:
    """A month or year number written in digits or Chinese numerals (十二, 二〇一九)."""
    if text.isdigit():
        return int(text)
    if text.startswith("十"):
        return 10 + (_CN_DIGITS[text[1]] if len(text) > 1 else 0)
    value = 0
    for ch in text:
        value = value * 10 + _CN_DIGITS[ch]
    return value


def _year(text: str, newest_year: int) -> int:
    value = _number(text)
    if value < 100:  # 19年 → 2019
        value += (newest_year // 100) * 100
    return value


def _shift(year: int, month: int, delta: int) -> tuple[int, int]:
    index = year * 12 + (month - 1) + delta
    return index // 12, index % 12 + 1


def parse_time(text: str, newest: str) -> tuple[set[str], set[str], bool, str, list[str]]:
    """(months, years, latest, rest, mentions) of the time expressions in `text`.

    `newest` is the newest issue month in the index ("YYYY-MM"); relative words count from
    it. A month without a year (六月份, 6月) is the newest such month not after `newest`.
    """
    months: set[str] = set()
    years: set[str] = set()
    latest = False
    mentions: list[str] = []
    if re.fullmatch(r"\d{4}-\d{2}.*", newest or ""):
        newest_year, newest_month = int(newest[:4]), int(newest[5:7])
    else:
        newest_year, newest_month = 0, 0

    def cut(match: re.Match[str]) -> str:
        mentions.append(match.group(0))
        return " "

    def full(match: re.Match[str]) -> str:
        year, month = _year(match.group(1), newest_year), _number(match.group(2))
        if 1 <= month <= 12:
            months.add(f"{year:04d}-{month:02d}")
        return cut(match)

    def relative_year_month(match: re.Match[str]) -> str:
        offset = {"今年": 0, "去年": -1, "前年": -2, "明年": 1}[match.group(1)]
        month = _number(match.group(2))
        if newest_year and 1 <= month <= 12:
            months.add(f"{newest_year + offset:04d}-{month:02d}")
        return cut(match)

    def year_only(match: re.Match[str]) -> str:
        years.add(f"{_year(match.group(1), newest_year):04d}")
        return cut(match)

    def month_only(match: re.Match[str]) -> str:
        month = _number(match.group(1))
        if newest_year and 1 <= month <= 12:
            year = newest_year if month <= newest_month else newest_year - 1
            months.add(f"{year:04d}-{month:02d}")
        return cut(match)

    def relative_year(match: re.Match[str]) -> str:
        if newest_year:
            offset = {"今年": 0, "去年": -1, "前年": -2}[match.group(0)]
            years.add(f"{newest_year + offset:04d}")
        return cut(match)

    def relative_month(match: re.Match[str]) -> str:
        if newest_year:
            delta = -2 if "上上" in match.group(0) else (-1 if "上" in match.group(0) else 0)
            year, month = _shift(newest_year, newest_month, delta)
            months.add(f"{year:04d}-{month:02d}")
        return cut(match)

    def latest_issue(match: re.Match[str]) -> str:
        nonlocal latest
        latest = True
        return cut(match)

    text = _FULL_RE.sub(full, text)
    text = _REL_YEAR_MONTH_RE.sub(relative_year_month, text)
    text = _YEAR_ONLY_RE.sub(year_only, text)
    text = _MONTH_ONLY_RE.sub(month_only, text)
    text = _REL_YEAR_RE.sub(relative_year, text)
    text = _REL_MONTH_RE.sub(relative_month, text)
    text = _LATEST_RE.sub(latest_issue, text)
    return months, years, latest, text, mentions


def street_aliases(street: str, newspapers: Iterable[str] = ()) -> set[str]:
    """The names a resident may use for a street: full, without 街道/镇, the newspapers' names."""
    names = {street}
    for suffix in ("街道", "镇"):
        if street.endswith(suffix) and len(street) - len(suffix) >= 2:
            names.add(street[: -len(suffix)])
    short = street.removesuffix("街道").removesuffix("镇")
    # 芷江西路 → 芷江西 as residents often drop the 路 (芷江西社区).
    if short.endswith("路") and len(short) >= 4:
        names.add(short[:-1] + "社区")
    names |= {n for n in newspapers if n and len(n) >= 3}
    return names


def parse_scope(question: str, streets: dict[str, set[str]], newest: str) -> Scope:
    """The street and time named in `question`.

    `streets` maps each canonical street name to its aliases (see `street_aliases`); the
    longest alias found wins, so 天山路街道 is preferred to 天山路. Times are read only when
    `newest` (the newest issue month) is given.
    """
    scope = Scope()
    text = for_matching(question)
    best: tuple[int, str, str] | None = None
    for street, aliases in streets.items():
        for alias in aliases:
            key = for_matching(alias)
            if key and key in text and (best is None or len(key) > best[0]):
                best = (len(key), street, key)
    if best is not None:
        scope.street = best[1]
        scope.mentions.append(best[2])
        text = text.replace(best[2], " ")
    if newest:
        scope.months, scope.years, scope.latest, text, mentions = parse_time(text, newest)
        scope.mentions.extend(mentions)
    if scope.active:
        text = _FILLER_RE.sub(" ", text)
    scope.rest = text
    return scope
