"""/stats worth reading: noise left out of the "没答上" list (and counted), numbers read afresh at
each /stats (an issue another process published included), and a chart of the last 30 days."""

from __future__ import annotations

import asyncio
import datetime as dtm
import re
import time
from pathlib import Path

import pytest
from bots import make_services, running_bot
from configs import STAFF, make_settings, write_cli_config
from corpora import NEW_ISSUE
from fake_bot_api import FakeBotApi

from bot.cli.commands import main as cli_main
from bot.core.services import BotServices
from bot.core.state import Database
from bot.core.stats import SHANGHAI, Day, chart_caption, daily, gather, is_noise, unanswered_counts
from bot.core.stats_chart import DPI, HEIGHT, WIDTH, render_chart

LOG_SQL = "INSERT INTO query_log (at, chat_id, question, results) VALUES (?, ?, ?, ?)"
PNG = b"\x89PNG\r\n\x1a\n"


@pytest.fixture
def services(tmp_path: Path, api: FakeBotApi) -> BotServices:
    return make_services(make_settings(tmp_path, api))


def log(db: Database, at: float, question: str, results: int, times: int = 1) -> None:
    for _ in range(times):
        db.execute(LOG_SQL, (at, 9, question, results))


@pytest.mark.parametrize(
    "text",
    [
        "/latest",
        "/ask@newsbot 垃圾分类",
        "@someone 你好",
        "垃圾分类" * 30,
        "😀🎉👍",
        "？？？",
        "...",
        "asdfghjkl",
        "sdfg hjkl",
        "啊啊啊啊啊啊",
    ],
)
def test_noise_is_recognised(text: str) -> None:
    assert is_noise(text)


@pytest.mark.parametrize(
    "text", ["垃圾分类怎么投放？", "老年助餐点", "Where is 天山路 积水点?", "2019", "110", "hello", "电梯"]
)
def test_questions_are_not_noise(text: str) -> None:
    assert not is_noise(text)


def test_unanswered_list_leaves_noise_out_and_counts_it(services: BotServices) -> None:
    db, now = services.db, time.time()
    log(db, now - 60, "老年助餐点", 0, times=3)
    log(db, now - 50, "火星基地", 0, times=2)
    for noise in ("/latest", "@someone 你好", "x" * 4096, "😀😀", "asdfghjkl"):
        log(db, now - 40, noise, 0)
    ranked, noise = unanswered_counts(db, now - 3600)
    assert ranked == [("老年助餐点", 3), ("火星基地", 2)]
    assert noise == 5


def test_daily_counts_are_shanghai_days_with_gaps(services: BotServices) -> None:
    db = services.db
    now = dtm.datetime(2024, 5, 15, 12, 0, tzinfo=SHANGHAI).timestamp()
    log(db, now - 3600, "a", 0, times=2)  # today
    log(db, now - 3600, "b", 5, times=2)
    # 23:30 Shanghai two days ago is still that day there, though another day in UTC.
    log(db, dtm.datetime(2024, 5, 13, 23, 30, tzinfo=SHANGHAI).timestamp(), "c", 0)
    log(db, now - 40 * 86400, "too old", 0)
    days = daily(db, now)
    assert len(days) == 30 and days[-1].date == dtm.date(2024, 5, 15) and days[0].date == dtm.date(2024, 4, 16)
    by_date = {d.date: (d.asked, d.unanswered) for d in days}
    assert by_date[dtm.date(2024, 5, 15)] == (4, 2)
    assert by_date[dtm.date(2024, 5, 13)] == (1, 1)
    assert by_date[dtm.date(2024, 5, 14)] == (0, 0)
    assert sum(d.asked for d in days) == 5


def test_chart_is_a_png_of_the_expected_size() -> None:
    first = dtm.date(2024, 4, 16)
    days = [Day(first + dtm.timedelta(days=n), asked=n % 7, unanswered=n % 3 if n % 7 else 0) for n in range(30)]
    png = render_chart(days)
    assert png.startswith(PNG)
    width, height = int.from_bytes(png[16:20], "big"), int.from_bytes(png[20:24], "big")
    assert (width, height) == (round(WIDTH * DPI), round(HEIGHT * DPI))
    assert render_chart(days[:1]).startswith(PNG)  # one day, and days with no question, draw too


async def test_stats_are_live_and_come_with_a_chart(tmp_path: Path, api: FakeBotApi, services: BotServices) -> None:
    db, now = services.db, time.time()
    log(db, now - 60, "老年助餐点", 0, times=3)
    log(db, now - 50, "火星基地", 0, times=2)
    for noise in ("/latest", "@someone 你好", "x" * 4096, "😀😀", "asdfghjkl"):
        log(db, now - 40, noise, 0)
    log(db, now - 3 * 86400, "垃圾分类", 4, times=2)
    async with running_bot(services, api):
        first = await stats_text(api)
        assert "1. 老年助餐点（3 次）" in first and "2. 火星基地（2 次）" in first
        assert "另有 5 条不像问题的消息" in first
        for noise in ("/latest", "@someone", "xxxx", "😀", "asdf"):
            assert noise not in first
        photo = (await api.wait_for_calls_async("sendPhoto", 1, timeout=60))[0]
        assert photo.ok and chart_caption(gather(services.holder.engine, db)) == photo.params["caption"]
        assert "近 30 天" in photo.params["caption"] and "没找到答案" in photo.params["caption"]
        assert photo.params["photo"].data.startswith(PNG)

        # Another process (`newsbot publish`) adds an issue that answers 老年助餐点.
        issue = tmp_path / "tianshan-2024-05.txt"
        issue.write_text(NEW_ISSUE, encoding="utf-8")
        config = write_cli_config(services.settings)
        command = [
            "publish",
            str(issue),
            "--street",
            "天山路街道",
            "--month",
            "2024-05",
            "--yes",
            "--config",
            str(config),
        ]
        assert await asyncio.to_thread(cli_main, command) == 0
        second = await stats_text(api)
    issues, articles = numbers(first)
    assert numbers(second) == (issues + 1, articles + 3)
    assert "老年助餐点" not in second and "1. 火星基地（2 次）" in second
    assert "另有 3 次提问当时没答上，现在的资料库已能找到相关报道" in second


async def stats_text(api: FakeBotApi) -> str:
    before = len(api.sent_messages(STAFF))
    api.message_update(STAFF, "/stats", user_id=STAFF)
    return str((await api.wait_for_messages_async(STAFF, before + 1, timeout=60))[before]["text"])


def numbers(text: str) -> tuple[int, int]:
    found = re.search(r"期数 ([\d,]+) · 文章 ([\d,]+)", text)
    assert found is not None, text
    return int(found[1].replace(",", "")), int(found[2].replace(",", ""))
