"""The bot's durable state in SQLite: the connection, and named, recorded schema migrations.

One file under the data directory holds subscribers, the query log, staff and broadcasts.
Each migration runs once, in order, inside a transaction, and is recorded by name in
`schema_migrations`, so an old database is brought up to date at start-up.
The connection is shared between the bot's threads behind a lock (WAL mode lets other
processes, such as `newsbot publish`, read and write at the same time).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)

# A migration's body: SQL statements, or a function given the connection inside the transaction.
MigrationStep = str | Callable[[sqlite3.Connection], None]

# (name, body). Never edit a migration that has shipped; add a new one.
MIGRATIONS: list[tuple[str, MigrationStep]] = [
    (
        "001_subscribers",
        """
        CREATE TABLE subscribers (
            chat_id INTEGER PRIMARY KEY,
            since REAL NOT NULL,
            active INTEGER NOT NULL DEFAULT 1,
            blocked_at REAL,
            updated_at REAL NOT NULL
        );
        CREATE TABLE subscriptions (
            chat_id INTEGER NOT NULL REFERENCES subscribers(chat_id) ON DELETE CASCADE,
            street TEXT NOT NULL,
            since REAL NOT NULL,
            PRIMARY KEY (chat_id, street)
        );
        CREATE INDEX subscriptions_street ON subscriptions(street);
        """,
    ),
    (
        "002_query_log",
        """
        CREATE TABLE query_log (
            id INTEGER PRIMARY KEY,
            at REAL NOT NULL,
            chat_id INTEGER,
            question TEXT NOT NULL,
            results INTEGER NOT NULL
        );
        CREATE INDEX query_log_at ON query_log(at);
        """,
    ),
    (
        # Staff added or removed by admins from the bot; a row overrides config.yaml's staff list.
        "003_staff",
        """
        CREATE TABLE staff (
            user_id INTEGER PRIMARY KEY,
            active INTEGER NOT NULL,
            changed_by INTEGER,
            changed_at REAL NOT NULL
        );
        """,
    ),
    (
        # One broadcast per published issue, one delivery row per subscriber of it (see bot/broadcast.py).
        "004_broadcasts",
        """
        CREATE TABLE broadcasts (
            id INTEGER PRIMARY KEY,
            issue_id TEXT NOT NULL UNIQUE,
            street TEXT NOT NULL,
            title TEXT NOT NULL,
            text TEXT NOT NULL,
            created_at REAL NOT NULL,
            created_by INTEGER,
            report_chat_id INTEGER,
            progress_message_id INTEGER,
            state TEXT NOT NULL DEFAULT 'queued',
            total INTEGER NOT NULL,
            started_at REAL,
            finished_at REAL,
            reported_at REAL
        );
        CREATE TABLE deliveries (
            broadcast_id INTEGER NOT NULL REFERENCES broadcasts(id) ON DELETE CASCADE,
            chat_id INTEGER NOT NULL,
            state TEXT NOT NULL DEFAULT 'pending',
            attempts INTEGER NOT NULL DEFAULT 0,
            throttled INTEGER NOT NULL DEFAULT 0,
            next_at REAL NOT NULL DEFAULT 0,
            updated_at REAL,
            message_id INTEGER,
            error TEXT,
            PRIMARY KEY (broadcast_id, chat_id)
        );
        CREATE INDEX deliveries_due ON deliveries(state, next_at);
        CREATE INDEX broadcasts_state ON broadcasts(state);
        """,
    ),
    (
        # Summary lines staff corrected before a broadcast, and the correction each staff chat is
        # being asked for (see bot/summary_edits.py): both outlive a restart of the bot.
        "005_summary_edits",
        """
        CREATE TABLE summary_edits (
            draft_key TEXT NOT NULL,
            number INTEGER NOT NULL,
            line TEXT NOT NULL,
            edited_by INTEGER,
            edited_at REAL NOT NULL,
            PRIMARY KEY (draft_key, number)
        );
        CREATE TABLE summary_edit_prompts (
            chat_id INTEGER NOT NULL,
            user_id INTEGER NOT NULL,
            draft_key TEXT NOT NULL,
            number INTEGER NOT NULL,
            headline TEXT NOT NULL,
            token TEXT NOT NULL,
            message_id INTEGER,
            asked_at REAL NOT NULL,
            PRIMARY KEY (chat_id, user_id)
        );
        """,
    ),
    # The inline keyboard (JSON) sent with a broadcast: 全文 per article, 退订 and 设置.
    ("006_broadcast_buttons", "ALTER TABLE broadcasts ADD COLUMN markup TEXT;"),
]


def sql_statements(script: str) -> list[str]:
    """The statements of an SQL script, split where SQLite says a statement is complete.

    Unlike splitting on ";", a semicolon inside a string literal, a comment or a trigger body
    stays in its statement. Raises ValueError on an unfinished last statement.
    """
    statements: list[str] = []
    current = ""
    *pieces, tail = script.split(";")
    for piece in pieces:
        current += piece + ";"
        if sqlite3.complete_statement(current):
            statements.append(current.strip())
            current = ""
    current += tail
    if current.strip():
        if not sqlite3.complete_statement(current + ";"):
            raise ValueError(f"unfinished SQL statement: {current.strip()[:80]!r}")
        statements.append(current.strip())
    return statements


class Database:
    """A SQLite database with our schema, usable from several threads."""

    def __init__(self, path: Path | str) -> None:
        self.path = Path(path) if str(path) != ":memory:" else None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        self._conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30.0)
        self._conn.row_factory = sqlite3.Row
        self._lock = threading.RLock()
        with self._lock:
            if self.path is not None:
                self._conn.execute("PRAGMA journal_mode=WAL")
                # In WAL mode NORMAL survives a crash of the process (what the broadcast queue
                # must survive) and saves an fsync on every question logged.
                self._conn.execute("PRAGMA synchronous=NORMAL")
            self._conn.execute("PRAGMA foreign_keys=ON")
            self._conn.execute("PRAGMA busy_timeout=30000")
        self.migrate()

    def migrate(self) -> list[str]:
        """Apply the migrations not yet recorded; returns their names."""
        applied: list[str] = []
        with self.transaction() as conn:
            conn.execute(
                "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)"
            )
            done = {row[0] for row in conn.execute("SELECT name FROM schema_migrations")}
            for name, sql in MIGRATIONS:
                if name in done:
                    continue
                if callable(sql):
                    sql(conn)
                else:
                    for statement in sql_statements(sql):
                        conn.execute(statement)
                conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (name, time.time()))
                applied.append(name)
        if applied:
            log.info("database %s: applied %s", self.path or ":memory:", ", ".join(applied))
        return applied

    def applied_migrations(self) -> list[str]:
        """Names of the migrations this database has, in order."""
        return [r[0] for r in self.query("SELECT name FROM schema_migrations ORDER BY name")]

    @contextmanager
    def transaction(self) -> Iterator[sqlite3.Connection]:
        """A write transaction (BEGIN IMMEDIATE ... COMMIT, rolled back on error)."""
        with self._lock:
            self._conn.execute("BEGIN IMMEDIATE")
            try:
                yield self._conn
            except BaseException:
                self._conn.execute("ROLLBACK")
                raise
            self._conn.execute("COMMIT")

    def execute(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> sqlite3.Cursor:
        """Run one statement in its own transaction."""
        with self._lock:
            return self._conn.execute(sql, params)

    def query(self, sql: str, params: tuple[Any, ...] | dict[str, Any] = ()) -> list[sqlite3.Row]:
        """All rows of a query."""
        with self._lock:
            return list(self._conn.execute(sql, params))

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            self._conn.close()
