"""What staff read with /stats: the corpus, subscribers, and what residents ask — above all the
questions that found nothing, so staff know what residents look for and the papers lack.

Every /stats reads afresh: the counts from the database, the corpus numbers from the current
index, and the "没答上" list is checked against that index, so a question a newly published
issue now answers leaves the list at once. The list leaves out what is not a question (commands,
@mentions, text longer than any question, symbols only, keyboard gibberish); it says how many
it left out. `daily` gives the 30-day series drawn by bot.core.stats_chart.

Days and weeks are Shanghai's (UTC+8, no daylight saving), whatever the server's time zone.
"""

from __future__ import annotations

import datetime as dtm
import re
import time
from collections import Counter
from dataclasses import dataclass, field

from bot.core.dates import SHANGHAI
from bot.core.state import Database
from index.search import SearchEngine

_SPACES_RE = re.compile(r"\s+")
_EDGE_PUNCT = " \t\n?？!！。.,，、~～…"
# Longer than any question a resident types: pasted text, floods, gibberish.
MAX_QUESTION_CHARS = 80
TOP_UNANSWERED = 10
# Candidates re-checked against the current index for the top list (each is one search).
RECHECKED = 40
CHART_DAYS = 30
_CJK_RE = re.compile(r"[\u3400-\u9fff\uf900-\ufaff\U00020000-\U0002ffff]")
_WORD_CHAR_RE = re.compile(r"[^\W_]")
_LATIN_WORD_RE = re.compile(r"[a-z]+")
_CONSONANT_RUN_RE = re.compile(r"[bcdfghjklmnpqrstvwxz]{5,}")


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
    # Unanswered this week but left out of the list: not questions / answered by the index now.
    noise: int = 0
    answered_now: int = 0
    daily: list[Day] = field(default_factory=list)


@dataclass(frozen=True)
class Day:
    """One Shanghai day of questions (for the chart)."""

    date: dtm.date
    asked: int
    unanswered: int

    @property
    def unanswered_share(self) -> float:
        return self.unanswered / self.asked if self.asked else 0.0


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


def is_noise(question: str) -> bool:
    """Whether a logged "question" is not one: a command, an @mention, over-long text, symbols
    only, or keyboard gibberish (a run of consonants, one character over and over)."""
    text = question.strip()
    if not text or text.startswith("/") or "@" in text or len(text) > MAX_QUESTION_CHARS:
        return True
    if not _WORD_CHAR_RE.search(text):  # emoji, punctuation, symbols
        return True
    if _CJK_RE.search(text):
        squeezed = _SPACES_RE.sub("", text)
        return len(squeezed) >= 6 and len(set(squeezed)) <= 2  # 啊啊啊啊啊啊
    lower = text.lower()
    if _CONSONANT_RUN_RE.search(lower):
        return True
    words = _LATIN_WORD_RE.findall(lower)
    # Latin letters with no vowel at all ("sdfg hjkl"), or one letter repeated.
    letters = "".join(words)
    return bool(letters) and (not set(letters) & set("aeiouy") or (len(letters) >= 6 and len(set(letters)) <= 2))


def _questions(db: Database, since: float) -> Questions:
    row = db.query(
        "SELECT COUNT(*), COALESCE(SUM(CASE WHEN results = 0 THEN 1 ELSE 0 END), 0) FROM query_log WHERE at >= ?",
        (since,),
    )[0]
    return Questions(int(row[0]), int(row[1]))


def unanswered_counts(db: Database, since: float) -> tuple[list[tuple[str, int]], int]:
    """Questions that found nothing since `since`, most frequent first, as residents most often
    typed them; and how many unanswered rows were left out as noise (`is_noise`)."""
    rows = db.query(
        "SELECT question, COUNT(*) FROM query_log WHERE at >= ? AND results = 0 GROUP BY question", (since,)
    )
    totals: Counter[str] = Counter()
    spellings: dict[str, Counter[str]] = {}
    noise = 0
    for question, count in rows:
        text = str(question)
        key = normalize_question(text)
        if not key:
            continue
        if is_noise(text):
            noise += int(count)
            continue
        totals[key] += int(count)
        spellings.setdefault(key, Counter())[text.strip()] += int(count)
    ranked = sorted(totals.items(), key=lambda item: (-item[1], item[0]))
    return [(spellings[key].most_common(1)[0][0], count) for key, count in ranked], noise


def top_unanswered(db: Database, since: float, limit: int = TOP_UNANSWERED) -> list[tuple[str, int]]:
    """The most frequent questions that found nothing since `since` (noise left out)."""
    return unanswered_counts(db, since)[0][:limit]


def still_unanswered(
    engine: SearchEngine, ranked: list[tuple[str, int]], limit: int = TOP_UNANSWERED
) -> tuple[list[tuple[str, int]], int]:
    """The first `limit` questions the current index still answers with nothing, and how many
    of the questions checked on the way it now answers (published since they were asked)."""
    kept: list[tuple[str, int]] = []
    answered = 0
    for question, count in ranked[:RECHECKED]:
        if len(kept) >= limit:
            break
        if engine.search(question, 1, 0).total:
            answered += count
        else:
            kept.append((question, count))
    return kept, answered


def daily(db: Database, now: float, days: int = CHART_DAYS, tz: dtm.tzinfo = SHANGHAI) -> list[Day]:
    """Questions asked and unanswered on each of the last `days` days (today included), oldest first."""
    today = dtm.datetime.fromtimestamp(now, tz).date()
    first = today - dtm.timedelta(days=days - 1)
    start = dtm.datetime(first.year, first.month, first.day, tzinfo=tz).timestamp()
    asked: Counter[dtm.date] = Counter()
    unanswered: Counter[dtm.date] = Counter()
    # Bucketed here, not in SQL: day arithmetic in SQL differs between databases.
    for at, results in db.query("SELECT at, results FROM query_log WHERE at >= ?", (start,)):
        day = dtm.datetime.fromtimestamp(float(at), tz).date()
        asked[day] += 1
        unanswered[day] += int(results) == 0
    return [Day(day, asked[day], unanswered[day]) for day in (first + dtm.timedelta(days=n) for n in range(days))]


def gather(engine: SearchEngine, db: Database, now: float | None = None, tz: dtm.tzinfo = SHANGHAI) -> Stats:
    """Collect the numbers (blocks on SQLite and searches: call from a worker thread in the bot)."""
    now = time.time() if now is None else now
    today, week = period_starts(now, tz)
    subs = db.query(
        "SELECT COALESCE(SUM(CASE WHEN active = 1 THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN active = 0 AND blocked_at IS NOT NULL THEN 1 ELSE 0 END), 0), "
        "COALESCE(SUM(CASE WHEN active = 0 AND blocked_at IS NULL THEN 1 ELSE 0 END), 0) FROM subscribers"
    )[0]
    ranked, noise = unanswered_counts(db, week)
    top, answered_now = still_unanswered(engine, ranked)
    return Stats(
        issues=len(engine.issues),
        articles=engine.index.n_docs,
        active=int(subs[0]),
        blocked=int(subs[1]),
        unsubscribed=int(subs[2]),
        today=_questions(db, today),
        week=_questions(db, week),
        top_unanswered=top,
        at=now,
        noise=noise,
        answered_now=answered_now,
        daily=daily(db, now, tz=tz),
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
    if stats.answered_now:
        lines.append(f"另有 {stats.answered_now:,} 次提问当时没答上，现在的资料库已能找到相关报道（未列出）。")
    if stats.noise:
        lines.append(f"另有 {stats.noise:,} 条不像问题的消息（命令、@提及、过长或乱码）未列出。")
    return "\n".join(lines)


def chart_caption(stats: Stats) -> str:
    """The words under the /stats chart (the chart itself carries no Chinese)."""
    asked = sum(day.asked for day in stats.daily)
    unanswered = sum(day.unanswered for day in stats.daily)
    share = unanswered / asked if asked else 0.0
    return (
        f"📈 近 {len(stats.daily)} 天：柱子是每天的提问数，折线是没找到答案的比例（右侧刻度）。\n"
        f"共 {asked:,} 个提问，没找到答案 {share:.0%}。"
    )
