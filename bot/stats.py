"""What staff read with /stats: the corpus, subscribers, and what residents ask — above all the
questions that found nothing, so staff know what residents look for and the papers lack.

Days and weeks are Shanghai's (UTC+8, no daylight saving), whatever the server's time zone.
"""

from __future__ import annotations

import datetime as dtm
import re
import time
from collections import Counter
from dataclasses import dataclass, field

from bot.state import Database
from index.search import SearchEngine

SHANGHAI = dtm.timezone(dtm.timedelta(hours=8), "Asia/Shanghai")
_SPACES_RE = re.compile(r"\s+")
_EDGE_PUNCT = " \t\n?？!！。.,，、~～…"


@dataclass(frozen=True)
class Questions:
    """Questions asked in a period and how many found nothing."""

    asked: int = 0
    unanswered: int = 0

    @property
    def unanswered_share(self) -> float:
        """Share of questions answered with nothing (0 when none were asked)."""
        return self.unanswered / self.asked if self.asked else 0.0


@dataclass(frozen=True)
class Stats:
    """Everything /stats shows."""

    issues: int
    articles: int
    active: int
    blocked: int
    unsubscribed: int
    today: Questions
    week: Questions
    top_unanswered: list[tuple[str, int]] = field(default_factory=list)
    at: float = 0.0


def period_starts(now: float, tz: dtm.tzinfo = SHANGHAI) -> tuple[float, float]:
    """Timestamps of today's midnight and of this week's Monday midnight."""
    local = dtm.datetime.fromtimestamp(now, tz)
    midnight = local.replace(hour=0, minute=0, second=0, microsecond=0)
    monday = midnight - dtm.timedelta(days=local.weekday())
    return midnight.timestamp(), monday.timestamp()


def normalize_question(question: str) -> str:
    """The form under which repeated questions are counted together."""
    # Chinese has no spaces between words, so spacing never tells two questions apart.
    return _SPACES_RE.sub("", question).strip(_EDGE_PUNCT).lower()


def _questions(db: Database, since: float) -> Questions:
    row = db.query(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN results = 0 THEN 1 ELSE 0 END), 0) FROM query_log WHERE at >= ?",
        (since,),
    )[0]
    return Questions(int(row[0]), int(row[1]))


def top_unanswered(db: Database, since: float, limit: int = 10) -> list[tuple[str, int]]:
    """The most frequent questions that found nothing since `since`, as residents most often typed them."""
    rows = db.query(
        "SELECT question, COUNT(*) FROM query_log WHERE at >= ? AND results = 0 GROUP BY question", (since,)
    )
    totals: Counter[str] = Counter()
    spellings: dict[str, Counter[str]] = {}
    for question, count in rows:
        key = normalize_question(str(question))
        if not key:
            continue
        totals[key] += int(count)
        spellings.setdefault(key, Counter())[str(question).strip()] += int(count)
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))[:limit]
    return [(spellings[key].most_common(1)[0][0], count) for key, count in ranked]


def gather(engine: SearchEngine, db: Database, now: float | None = None, tz: dtm.tzinfo = SHANGHAI) -> Stats:
    """Collect the numbers (blocks on SQLite: call from a worker thread in the bot)."""
    now = time.time() if now is None else now
    today, week = period_starts(now, tz)
    subs = db.query(
        "SELECT COALESCE(SUM(CASE WHEN active = 1 THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN active = 0 AND blocked_at IS NOT NULL THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN active = 0 AND blocked_at IS NULL THEN 1 ELSE 0 END), 0) FROM subscribers"
    )[0]
    return Stats(
        issues=len(engine.issues),
        articles=engine.index.n_docs,
        active=int(subs[0]),
        blocked=int(subs[1]),
        unsubscribed=int(subs[2]),
        today=_questions(db, today),
        week=_questions(db, week),
        top_unanswered=top_unanswered(db, week),
        at=now,
    )


def format_stats(stats: Stats, tz: dtm.tzinfo = SHANGHAI) -> str:
    """The /stats message."""
    when = dtm.datetime.fromtimestamp(stats.at, tz).strftime("%m-%d %H:%M")
    lines = [
        f"📊 统计（{when}）",
        f"期数 {stats.issues:,} · 文章 {stats.articles:,}",
        f"订阅者：活跃 {stats.active:,} · 屏蔽了机器人 {stats.blocked:,} · 已退订 {stats.unsubscribed:,}",
        f"提问：今天 {stats.today.asked:,} · 本周 {stats.week.asked:,}",
        f"没找到答案：今天 {stats.today.unanswered_share:.0%} · 本周 {stats.week.unanswered_share:.0%}"
        f"（{stats.week.unanswered:,} 个）",
    ]
    if stats.top_unanswered:
        lines.append("")
        lines.append("本周没答上、问得最多的：")
        lines.extend(f"{n}. {q[:60]}（{count} 次）" for n, (q, count) in enumerate(stats.top_unanswered, 1))
    else:
        lines.append("本周没有答不上的问题。")
    return "\n".join(lines)
