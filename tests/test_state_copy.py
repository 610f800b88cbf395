"""`newsbot state migrate --to URL`: a populated SQLite state copied into PostgreSQL, run as the
real command. Every table arrives whole (counts and contents), identity ids continue after the
copied ones, a target holding state is refused unless --replace, and bad URLs are named."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from bots import add_subscribers

from bot.core import subscriptions
from bot.core.broadcasts import queue_broadcast
from bot.core.roles import Roles
from bot.core.settings import RoleSettings
from bot.core.state import Database
from bot.core.state_copy import CopyRefused, copy_order, copy_state
from bot.core.summary_edits import Prompt, SummaryEdits

ROOT = Path(__file__).resolve().parents[1]
SUBSCRIBERS = 2500  # more than one batch of the copy


def populate(db: Database) -> None:
    """A state as a street office accumulates it, through the bot's own functions."""
    add_subscribers(db, {chat: "天山路街道" if chat % 3 else "*" for chat in range(1, SUBSCRIBERS + 1)})
    subscriptions.subscribe(db, -1001234567890, ["外滩街道", "花木街道"])  # a supergroup: a 64-bit id
    subscriptions.unsubscribe(db, 7)
    subscriptions.mark_blocked(db, 8)
    for n in range(300):
        subscriptions.log_query(db, n, f"问题 {n} 100% '引号' ?", n % 4)
    Roles(RoleSettings(admins=(1,)), db).add_staff(4242, by=1)
    first, _ = queue_broadcast(db, "issue-a", "天山路街道", "第一期", "<b>甲</b>", range(1, 400), 1, 1, '{"k": 1}')
    second, _ = queue_broadcast(db, "issue-b", "*", "第二期", "乙", range(1, 50), None, None)
    db.execute("UPDATE deliveries SET state = 'sent', message_id = chat_id + 7 WHERE broadcast_id = ?", (first,))
    db.execute("UPDATE broadcasts SET state = 'done', finished_at = 1700000000.25 WHERE id = ?", (first,))
    edits = SummaryEdits(db, ttl=3600)
    edits.save("draft|1", 2, "改好的一句。", 5)
    edits.ask(Prompt(5, 5, "draft|1", 3, "标题", "tok", 11, asked_at=1700000001.5))
    assert second > first


def contents(db: Database) -> dict[str, list[tuple[Any, ...]]]:
    """Every table's rows, sorted, read with plain queries (not the copy's own digest)."""
    out = {}
    for table in copy_order(db):
        columns = ", ".join(db.columns(table))
        out[table] = sorted((tuple(r) for r in db.query(f"SELECT {columns} FROM {table}")), key=repr)
    return out


def newsbot(*args: str, config: Path) -> subprocess.CompletedProcess[str]:
    env = {k: v for k, v in os.environ.items() if k != "NEWSBOT_STATE_URL"}
    return subprocess.run(
        [sys.executable, "-m", "bot.cli", *args, "--config", str(config)],
        capture_output=True,
        text=True,
        cwd=ROOT,
        env=env,
        timeout=300,
    )


@pytest.fixture
def config(tmp_path: Path) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(f"corpus_dir: {ROOT / 'corpus'}\ndata_dir: {tmp_path / 'data'}\n", encoding="utf-8")
    return path


def test_migrate_copies_a_populated_sqlite_state_to_postgresql(config: Path, postgres_url: str) -> None:
    source = Database(config.parent / "data" / "newsbot.sqlite3")
    populate(source)
    before = contents(source)
    source.close()

    done = newsbot("state", "migrate", "--to", postgres_url, config=config)
    assert done.returncode == 0, done.stderr
    assert "subscribers" in done.stdout and f"{SUBSCRIBERS + 1:,} rows" in done.stdout

    target = Database(postgres_url)
    after = contents(target)
    assert after == before
    assert len(after["subscribers"]) == SUBSCRIBERS + 1 and len(after["query_log"]) == 300
    assert len(after["deliveries"]) == 399 + 49
    # The identity sequence continues after the copied broadcasts instead of colliding with them.
    third, _ = queue_broadcast(target, "issue-c", "*", "第三期", "丙", [1])
    assert third == max(r[0] for r in after["broadcasts"]) + 1
    assert subscriptions.subscription_of(target, -1001234567890).streets == ("外滩街道", "花木街道")
    assert Roles(RoleSettings(admins=(1,)), target).is_staff(4242)
    target.close()

    again = newsbot("state", "migrate", "--to", postgres_url, config=config)
    assert again.returncode == 2 and "already holds state" in again.stderr and "--replace" in again.stderr
    check = Database(postgres_url)
    assert len(check.query("SELECT id FROM broadcasts")) == 3  # refused: nothing touched
    check.close()

    replaced = newsbot("state", "migrate", "--to", postgres_url, "--replace", config=config)
    assert replaced.returncode == 0, replaced.stderr
    check = Database(postgres_url)
    assert contents(check) == before
    check.close()

    info = newsbot("state", "info", config=config)
    assert info.returncode == 0 and f"{SUBSCRIBERS + 1:,} rows" in info.stdout


def test_migrate_refuses_what_it_cannot_do(config: Path, tmp_path: Path) -> None:
    bad = newsbot("state", "migrate", "--to", "mysql://somewhere/db", config=config)
    assert bad.returncode == 2 and "sqlite:///PATH or postgresql://" in bad.stderr
    same = config.parent / "data" / "newsbot.sqlite3"
    itself = newsbot("state", "migrate", "--to", f"sqlite:///{same}", config=config)
    assert itself.returncode == 2 and "same database" in itself.stderr
    usage = newsbot("state", config=config)
    assert usage.returncode == 2 and "migrate" in usage.stderr


def test_copy_back_from_postgresql_to_sqlite(postgres_url: str, tmp_path: Path) -> None:
    source = Database(postgres_url)
    populate(source)
    target = Database(tmp_path / "back.sqlite3")
    report = copy_state(source, target)
    assert all(r.same_contents and r.source_rows == r.target_rows for r in report)
    assert contents(target) == contents(source)
    with pytest.raises(CopyRefused, match="already holds state"):
        copy_state(source, target)
    source.close()
    target.close()
