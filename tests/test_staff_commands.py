"""Roles, refusals, /staff, /stats and /broadcasts: unit level and through the running bot."""

from __future__ import annotations

import datetime as dtm
import logging
import time

import pytest
from bots import add_subscribers, running_bot
from configs import ADMIN, RESIDENT, STAFF
from fake_bot_api import FakeBotApi

from bot.core.broadcasts import queue_broadcast
from bot.core.dates import SHANGHAI
from bot.core.roles import RoleChangeError, Roles
from bot.core.services import BotServices
from bot.core.settings import RoleSettings
from bot.core.staff_texts import REFUSAL
from bot.core.state import Database
from bot.core.stats import format_stats, gather, normalize_question, period_starts
from index.search import SearchEngine

STAFF_COMMANDS = ["/staff", "/staff list", "/staff add 5005", "/staff remove 1002", "/broadcasts", "/reindex", "/stats"]
LOG_SQL = "INSERT INTO query_log (at, chat_id, question, results) VALUES (?, ?, ?, ?)"
ADMIN_ONLY = ["/staff", "/staff add 7007", "/staff remove 1002", "/reindex"]


async def say(api: FakeBotApi, chat: int, text: str) -> str:
    """Send a message from `chat` (as that user) and return the bot's one reply."""
    before = len(api.sent_messages(chat))
    api.message_update(chat, text, user_id=chat)
    return str((await api.wait_for_messages_async(chat, before + 1, timeout=30))[before]["text"])


def test_roles_come_from_config_and_admins_changes_persist(state_url: str) -> None:
    path = state_url
    roles = Roles(RoleSettings(admins=(1,), staff=(2,)), Database(path))
    assert roles.is_admin(1) and roles.is_staff(1)
    assert roles.is_staff(2) and not roles.is_admin(2)
    assert not roles.is_staff(3) and not roles.is_staff(None) and not roles.is_admin(None)
    assert roles.add_staff(3, by=1) and not roles.add_staff(3, by=1)
    assert roles.remove_staff(2, by=1) and not roles.remove_staff(2, by=1)
    with pytest.raises(RoleChangeError):
        roles.remove_staff(1, by=1)

    again = Roles(RoleSettings(admins=(1,), staff=(2,)), Database(path))
    assert again.is_staff(3) and not again.is_staff(2)
    assert [(m.user_id, m.admin, m.source) for m in again.members()] == [(1, True, "config"), (3, False, "bot")]
    assert again.add_staff(2, by=1) and again.is_staff(2)


async def test_every_staff_command_is_refused_to_others(
    api: FakeBotApi, services: BotServices, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.edge.staff_state")
    async with running_bot(services, api):
        for command in STAFF_COMMANDS:
            assert await say(api, RESIDENT, command) == REFUSAL, command
        for command in ADMIN_ONLY:
            assert await say(api, STAFF, command) == REFUSAL, command
        # A staff button pressed by someone else (a forwarded preview, a forged update).
        api.callback_update(RESIDENT, 1, "stf:ok:deadbeef", user_id=RESIDENT)
        answer = await api.wait_for_calls_async("answerCallbackQuery", 1, timeout=30)
        # A resident's file is a resident matter: no refusal, no download.
        api.document_update(RESIDENT, "x.txt", "社区".encode(), user_id=RESIDENT)
        await api.wait_for_messages_async(RESIDENT, len(STAFF_COMMANDS) + 1, timeout=30)
    assert answer[0].params["text"] == REFUSAL
    # One reply each: the resident catch-alls stayed silent.
    assert len(api.sent_messages(RESIDENT)) == len(STAFF_COMMANDS) + 1
    assert api.sent_texts(RESIDENT)[-1] != REFUSAL
    assert len(api.sent_messages(STAFF)) == len(ADMIN_ONLY)
    logged = [r.getMessage() for r in caplog.records if r.name == "bot.edge.staff_state"]
    refusals = [m for m in logged if "refused" in m]
    assert sum(str(RESIDENT) in r for r in refusals) == len(STAFF_COMMANDS) + 1
    assert sum(str(STAFF) in r for r in refusals) == len(ADMIN_ONLY)
    assert not services.holder.status.started  # no reindex ran
    db = Database(services.settings.state_db)
    assert db.query("SELECT COUNT(*) FROM staff")[0][0] == 0


async def test_admin_adds_and_removes_staff(api: FakeBotApi, services: BotServices) -> None:
    async with running_bot(services, api):
        assert await say(api, 7007, "/stats") == REFUSAL
        assert await say(api, ADMIN, "/staff add 7007") == "已把 7007 加为工作人员。"
        assert (await say(api, 7007, "/stats")).startswith("📊 统计")
        assert (await say(api, ADMIN, "/staff remove 1002")).startswith("已移除工作人员 1002。")
        assert await say(api, STAFF, "/stats") == REFUSAL
        assert "不能在这里移除" in await say(api, ADMIN, "/staff remove 1001")
        assert (await say(api, ADMIN, "/staff add seven")).startswith("用法")
        listing = await say(api, ADMIN, "/staff list")
        assert "管理员：1001" in listing and "7007（管理员添加）" in listing
        assert "1002（" not in listing and "停用：1002" in listing  # not staff, but config still lists them


def test_stats_numbers(state_url: str, services: BotServices) -> None:
    # A Wednesday noon in Shanghai: "today" and "this week" differ.
    now = dtm.datetime(2024, 5, 15, 12, 0, tzinfo=SHANGHAI).timestamp()
    today, week = period_starts(now)
    assert dtm.datetime.fromtimestamp(week, SHANGHAI) == dtm.datetime(2024, 5, 13, tzinfo=SHANGHAI)
    assert now - today == 12 * 3600
    db = Database(state_url)
    add_subscribers(db, {1: "*", 2: "天山路街道", 3: "花木街道"})
    add_subscribers(db, {4: "*", 5: "*"}, active=False)
    db.execute("UPDATE subscribers SET blocked_at = ? WHERE chat_id = 4", (now,))
    rows = [
        (now - 60, "垃圾分类怎么投放？", 0),
        (now - 50, "垃圾分类  怎么投放", 0),
        (now - 40, "加装电梯", 3),
        (now - 30, "  ", 0),
        (today - 3600, "垃圾分类怎么投放？", 0),
        (today - 7200, "停车收费标准", 0),
        (today - 7300, "义诊", 2),
        (week - 60, "上周的问题", 0),
    ]
    for at, question, results in rows:
        db.execute(LOG_SQL, (at, 9, question, results))
    engine: SearchEngine = services.holder.engine
    stats = gather(engine, db, now=now)
    assert (stats.issues, stats.articles) == (len(engine.issues), engine.index.n_docs)
    assert (stats.active, stats.blocked, stats.unsubscribed) == (3, 1, 1)
    assert (stats.today.asked, stats.today.unanswered) == (4, 3)
    assert (stats.week.asked, stats.week.unanswered) == (7, 5)
    assert stats.top_unanswered == [("垃圾分类怎么投放？", 3), ("停车收费标准", 1)]
    text = format_stats(stats)
    assert "订阅者：活跃 3 · 屏蔽了机器人 1 · 已退订 1" in text
    assert "提问：今天 4 · 本周 7" in text
    assert "没找到答案：今天 75% · 本周 71%（5 个）" in text
    db.close()
    assert "1. 垃圾分类怎么投放？（3 次）" in text and "2. 停车收费标准（1 次）" in text
    assert normalize_question(" 垃圾分类  怎么投放？") == normalize_question("垃圾分类 怎么投放")


async def test_stats_and_broadcasts_through_the_bot(api: FakeBotApi, services: BotServices) -> None:
    add_subscribers(services.db, {1: "*"})
    services.db.execute(LOG_SQL, (time.time(), 1, "月饼", 0))
    async with running_bot(services, api):
        assert await say(api, STAFF, "/broadcasts") == "还没有广播。"
        text = await say(api, STAFF, "/stats")
        assert "订阅者：活跃 1" in text and "1. 月饼（1 次）" in text
        queue_broadcast(services.db, "x-1", "天山路街道", "天山社区晨报 2020年7月", "新一期", [1], STAFF, None)
        await api.wait_for_messages_async(1, 1, timeout=30)
        await api.wait_for_async(lambda: services.db.query("SELECT state FROM broadcasts")[0][0] == "done", timeout=30)
        listing = await say(api, STAFF, "/broadcasts")
    assert listing.startswith("📣 最近的广播\n#1 ")
    assert "天山社区晨报 2020年7月 · 已完成" in listing and "已发送 1/1" in listing


async def test_staff_ids_are_validated_and_config_removals_explained(api: FakeBotApi, services: BotServices) -> None:
    async with running_bot(services, api):
        assert "不是有效的 Telegram 用户 ID" in await say(api, ADMIN, "/staff add 99999999999999999999999")
        assert "群组或频道" in await say(api, ADMIN, "/staff add -5")
        assert "不是有效" in await say(api, ADMIN, "/staff add 0")
        removed = await say(api, ADMIN, f"/staff remove {STAFF}")
        assert "已移除" in removed and "config.yaml 仍列出" in removed
        listing = await say(api, ADMIN, "/staff list")
        assert f"已在机器人里停用：{STAFF}" in listing
        assert "已把" in await say(api, ADMIN, f"/staff add {STAFF}")
        assert "停用" not in await say(api, ADMIN, "/staff list")
    assert not [c for c in api.calls() if c.method == "sendMessage" and not c.ok]


def test_roles_changed_through_one_worker_reach_the_others(postgres_url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    """Two workers (two connections) on one PostgreSQL: an admin's /staff change on one is seen by the other."""
    monkeypatch.setattr("bot.core.roles.SHARED_CACHE_SECONDS", 0.0)
    first_db, second_db = Database(postgres_url), Database(postgres_url)
    first = Roles(RoleSettings(admins=(1,), staff=(2,)), first_db)
    second = Roles(RoleSettings(admins=(1,), staff=(2,)), second_db)
    assert not second.is_staff(3)
    assert first.add_staff(3, by=1) and first.remove_staff(2, by=1)
    assert second.is_staff(3) and not second.is_staff(2)
    assert second.removed_config_staff() == [2]
    first_db.close()
    second_db.close()
