"""The bot's durable state: the connection, and named, recorded schema migrations.

One database holds subscribers, the query log, staff and broadcasts: by default an SQLite file
under the data directory (nothing to install), or a PostgreSQL server shared by several workers
(`state.url` / $NEWSBOT_STATE_URL; see bot/core/state_dialect.py for what differs between the two).
Each migration runs once, in order, inside a transaction, and is recorded by name in
`schema_migrations`, so an old database is brought up to date at start-up.
The connection is shared between the bot's threads behind a lock (SQLite's WAL mode lets other
processes, such as `newsbot publish`, read and write at the same time).
"""

from __future__ import annotations

import logging
import sqlite3
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from bot.core.migrations import MIGRATIONS
from bot.core.state_dialect import (
    POSTGRESQL,
    Connection,
    Cursor,
    Params,
    PgConnection,
    Row,
    connect_postgres,
    database_errors,
    dialect_of,
    integrity_errors,
    postgres_ddl,
    redact,
    sqlite_path,
    sqlite_url,
)

__all__ = ["DATABASE_ERRORS", "INTEGRITY_ERRORS", "MIGRATIONS", "Connection", "Cursor", "Database", "Row"]

log = logging.getLogger(__name__)

# Catch these around a statement that may violate a constraint, whichever backend runs it.
INTEGRITY_ERRORS = integrity_errors()
DATABASE_ERRORS = database_errors()
# How long a worker trusts its in-memory copy of state that other workers may change (roles,
# open summary-edit prompts): a change made through one worker reaches the others within this.
SHARED_CACHE_SECONDS = 1.0
# Two PostgreSQL workers starting at once must not both run the same migration.
_MIGRATION_LOCK = 7_301_201


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


def state_url_of(target: Path | str) -> str:
    """The URL of a state target: a URL as it is, a file path as `sqlite:///PATH`."""
    text = str(target)
    if "://" in text or text.startswith("sqlite:"):
        return text  # a URL, checked by dialect_of (a mistyped scheme is refused, not taken for a file)
    return sqlite_url(text)


class Database:
    """The state database (SQLite or PostgreSQL) with our schema, usable from several threads.

    `target` is a state URL (`sqlite:///PATH`, `postgresql://...`), a file path, or ":memory:".
    """

    def __init__(self, target: Path | str) -> None:
        self.url = state_url_of(target)
        self.dialect = dialect_of(self.url)
        self.path: Path | None = None
        self._lock = threading.RLock()
        self._pg: PgConnection | None = None
        self._sqlite: sqlite3.Connection | None = None
        if self.dialect == POSTGRESQL:
            self._pg = connect_postgres(self.url)
        else:
            self._open_sqlite(sqlite_path(self.url))
        self.migrate()

    def _open_sqlite(self, path: Path) -> None:
        self.path = path if str(path) != ":memory:" else None
        if self.path is not None:
            self.path.parent.mkdir(parents=True, exist_ok=True)
        conn = sqlite3.connect(str(path), check_same_thread=False, isolation_level=None, timeout=30.0)
        conn.row_factory = sqlite3.Row
        if self.path is not None:
            conn.execute("PRAGMA journal_mode=WAL")
            # In WAL mode NORMAL survives a crash of the process (what the broadcast queue
            # must survive) and saves an fsync on every question logged.
            conn.execute("PRAGMA synchronous=NORMAL")
        conn.execute("PRAGMA foreign_keys=ON")
        conn.execute("PRAGMA busy_timeout=30000")
        self._sqlite = conn

    @property
    def name(self) -> str:
        """The database for log lines (no password)."""
        return redact(self.url) if self.dialect == POSTGRESQL else str(self.path or ":memory:")

    @property
    def shared(self) -> bool:
        """Whether other processes (workers) may change this state at any time (PostgreSQL).

        Caches of the state kept in memory for the event loop are then read again every few
        seconds (see `SHARED_CACHE_SECONDS`) instead of trusted until this process changes them.
        """
        return self.dialect == POSTGRESQL

    @property
    def skip_locked(self) -> str:
        """`FOR UPDATE SKIP LOCKED` where the backend has row locks (PostgreSQL), else nothing.

        SQLite needs none: a write transaction (BEGIN IMMEDIATE) already excludes every other writer.
        """
        return " FOR UPDATE SKIP LOCKED" if self.dialect == POSTGRESQL else ""

    @property
    def for_update(self) -> str:
        """`FOR UPDATE` on PostgreSQL (lock the rows read until the transaction ends), else nothing."""
        return " FOR UPDATE" if self.dialect == POSTGRESQL else ""

    def _connection(self) -> Connection:
        if self._pg is not None:
            raw = self._pg.raw
            if raw.closed or raw.broken:
                # The server restarted or the network dropped: a worker reconnects rather than dies.
                log.warning("state database %s: connection lost, reconnecting", self.name)
                self._pg = connect_postgres(self.url)
            return self._pg
        assert self._sqlite is not None
        return self._sqlite

    def migrate(self) -> list[str]:
        """Apply the migrations not yet recorded; returns their names."""
        applied: list[str] = []
        with self.transaction() as conn:
            if self.dialect == POSTGRESQL:
                conn.execute(f"SELECT pg_advisory_xact_lock({_MIGRATION_LOCK})")
            conn.execute(
                self._ddl(
                    "CREATE TABLE IF NOT EXISTS schema_migrations (name TEXT PRIMARY KEY, applied_at REAL NOT NULL)"
                )
            )
            done = {row[0] for row in conn.execute("SELECT name FROM schema_migrations")}
            for name, body in MIGRATIONS:
                if name in done:
                    continue
                if callable(body):
                    body(conn)
                else:
                    script = body[self.dialect] if isinstance(body, dict) else self._ddl(body)
                    for statement in sql_statements(script):
                        conn.execute(statement)
                conn.execute("INSERT INTO schema_migrations VALUES (?, ?)", (name, time.time()))
                applied.append(name)
        if applied:
            log.info("database %s: applied %s", self.name, ", ".join(applied))
        return applied

    def _ddl(self, sql: str) -> str:
        return postgres_ddl(sql) if self.dialect == POSTGRESQL else sql

    def applied_migrations(self) -> list[str]:
        """Names of the migrations this database has, in order."""
        return [r[0] for r in self.query("SELECT name FROM schema_migrations ORDER BY name")]

    def tables(self) -> list[str]:
        """The tables of our schema (and schema_migrations), by name."""
        if self.dialect == POSTGRESQL:
            sql = (
                "SELECT table_name FROM information_schema.tables WHERE table_schema = current_schema() "
                "AND table_type = 'BASE TABLE' ORDER BY table_name"
            )
        else:
            sql = "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite_%' ORDER BY name"
        return [str(r[0]) for r in self.query(sql)]

    def columns(self, table: str) -> list[str]:
        """A table's columns, in order."""
        if self.dialect == POSTGRESQL:
            rows = self.query(
                "SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
                "AND table_name = ? ORDER BY ordinal_position",
                (table,),
            )
            return [str(r[0]) for r in rows]
        return [str(r[1]) for r in self.query(f"PRAGMA table_info({table})")]

    @contextmanager
    def transaction(self) -> Iterator[Connection]:
        """A write transaction (rolled back on error).

        SQLite: BEGIN IMMEDIATE, so it holds the write lock from the start. PostgreSQL: READ
        COMMITTED; rows that several workers may take are claimed with `skip_locked`.
        """
        with self._lock:
            conn = self._connection()
            if isinstance(conn, PgConnection):
                with conn.raw.transaction():
                    yield conn
                return
            conn.execute("BEGIN IMMEDIATE")
            try:
                yield conn
            except BaseException:
                conn.execute("ROLLBACK")
                raise
            conn.execute("COMMIT")

    def execute(self, sql: str, params: Params = ()) -> Cursor:
        """Run one statement in its own transaction."""
        with self._lock:
            cursor: Cursor = self._connection().execute(sql, params)
            return cursor

    def query(self, sql: str, params: Params = ()) -> list[Row]:
        """All rows of a query."""
        with self._lock:
            return list(self._connection().execute(sql, params))

    def close(self) -> None:
        """Close the connection."""
        with self._lock:
            if self._pg is not None:
                self._pg.raw.close()
            if self._sqlite is not None:
                self._sqlite.close()
