"""Schema migrations are named, recorded and transactional: each runs once, in order, whole or not
at all, and statements are split where SQLite says they end (not on every ";")."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from bot.core import state
from bot.core.state import Database, sql_statements


def test_statements_split_where_sqlite_says_they_end() -> None:
    script = """
    CREATE TABLE t (a TEXT DEFAULT 'x;y');  CREATE TABLE u (b INTEGER);
    CREATE TRIGGER t_ins AFTER INSERT ON t BEGIN INSERT INTO u VALUES (1); INSERT INTO u VALUES (2); END;
    INSERT INTO t (a) VALUES ('semi;colon')
    """
    statements = sql_statements(script)
    assert len(statements) == 4
    assert statements[2].startswith("CREATE TRIGGER") and statements[2].endswith("END;")
    with pytest.raises(ValueError):
        sql_statements("CREATE TRIGGER x AFTER INSERT ON t BEGIN SELECT 1;")


def test_every_migration_is_recorded_once(tmp_path: Path) -> None:
    db = Database(tmp_path / "s.sqlite3")
    assert db.applied_migrations() == [name for name, _ in state.MIGRATIONS]
    assert db.migrate() == []
    db.close()
    again = Database(tmp_path / "s.sqlite3")
    assert again.migrate() == [] and again.applied_migrations() == [name for name, _ in state.MIGRATIONS]
    again.close()


def test_a_failing_migration_leaves_nothing_behind(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    db = Database(tmp_path / "s.sqlite3")
    db.close()

    def half_done(conn: sqlite3.Connection) -> None:
        conn.execute("CREATE TABLE half (x INTEGER)")
        conn.execute("INSERT INTO no_such_table VALUES (1)")

    broken = [*state.MIGRATIONS, ("900_half", "CREATE TABLE first_half (x INTEGER); INSERT INTO nowhere VALUES (1);")]
    monkeypatch.setattr(state, "MIGRATIONS", broken)
    with pytest.raises(sqlite3.OperationalError):
        Database(tmp_path / "s.sqlite3")
    monkeypatch.setattr(state, "MIGRATIONS", [*state.MIGRATIONS[:-1], ("901_half", half_done)])
    with pytest.raises(sqlite3.OperationalError):
        Database(tmp_path / "s.sqlite3")
    conn = sqlite3.connect(tmp_path / "s.sqlite3")
    tables = {row[0] for row in conn.execute("SELECT name FROM sqlite_master WHERE type = 'table'")}
    names = {row[0] for row in conn.execute("SELECT name FROM schema_migrations")}
    conn.close()
    assert "first_half" not in tables and "half" not in tables
    assert not names & {"900_half", "901_half"}
