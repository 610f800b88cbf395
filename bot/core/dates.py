"""Dates as the bot shows them: Shanghai's calendar (where the newspapers appear) and months and
days written the Chinese way, for residents and staff alike."""

from __future__ import annotations

import datetime as dtm
import re

# Shanghai has kept UTC+8 without daylight saving since 1991: a fixed offset is exact for every
# date the bot shows and needs no tz database on the server.
SHANGHAI = dtm.timezone(dtm.timedelta(hours=8), "Asia/Shanghai")

_MONTH_RE = re.compile(r"^(\d{4})-(\d{1,2})")


def month_label(date: str) -> str:
    """'2020-06' (or '2020-06-15') as '2020年6月'; other dates as they are."""
    match = _MONTH_RE.match(date.strip())
    if not match:
        return date.strip()
    return f"{match[1]}年{int(match[2])}月"


def day_label(timestamp: float | None) -> str:
    """A Unix time as its Shanghai day, '2020年6月15日' ('-' for none)."""
    if timestamp is None:
        return "-"
    day = dtm.datetime.fromtimestamp(timestamp, SHANGHAI)
    return f"{day.year}年{day.month}月{day.day}日"


def shanghai_today() -> dtm.date:
    """Today where the newspapers are published."""
    return dtm.datetime.now(SHANGHAI).date()
