"""Copying the whole state from one database to another (`newsbot state migrate --to URL`).

A street office that grows into a district moves its SQLite file to PostgreSQL: every table,
row for row, in one transaction on the target (all or nothing), parents before the tables that
reference them, identity sequences advanced past the copied ids, then counts and an
order-independent digest of every table compared. The source is read inside one transaction, so
a bot still writing meanwhile cannot leave the copy half old, half new (stop it first anyway:
what it writes after the copy stays behind in the old database).
"""

from __future__ import annotations

import hashlib
import logging
from collections.abc import Callable
from dataclasses import dataclass

from bot.core.state import Connection, Database
from bot.core.state_dialect import POSTGRESQL

log = logging.getLogger(__name__)

BATCH = 2000
# Recorded by each database's own migrate(); compared, not copied.
MIGRATIONS_TABLE = "schema_migrations"
# Rows the migrations seed or running workers keep (the send pace, heartbeats): copied, but a
# target holding only these is still empty.
RUNTIME_TABLES = frozenset({"send_pace", "workers"})


class CopyRefused(ValueError):
    """The copy cannot start (target not empty, schemas differ, same database); nothing was written."""


@dataclass(frozen=True)
class TableCopy:
    """One table's rows in the source and in the target after the copy."""

    table: str
    source_rows: int
    target_rows: int
    same_contents: bool


def table_digest(conn: Connection, table: str, columns: list[str]) -> tuple[int, str]:
    """(rows, digest) of a table, independent of row order and of the backend's value types."""
    total = 0
    count = 0
    cursor = conn.execute(f"SELECT {', '.join(columns)} FROM {table}")
    while rows := cursor.fetchmany(BATCH):
        for row in rows:
            text = "\x1f".join(_canonical(value) for value in row)
            total = (total + int.from_bytes(hashlib.sha256(text.encode("utf-8")).digest()[:8], "big")) % (1 << 64)
            count += 1
    return count, f"{total:016x}"


def _canonical(value: object) -> str:
    if value is None:
        return "\x00"
    if isinstance(value, bool):  # before int: True is an int
        return str(int(value))
    if isinstance(value, int | str):
        return str(value)
    if isinstance(value, float):
        return repr(value)
    if isinstance(value, bytes | memoryview):
        return bytes(value).hex()
    return f"{type(value).__name__}:{value}"


def copy_order(db: Database) -> list[str]:
    """Our tables with every referenced table before the tables that reference it."""
    tables = [t for t in db.tables() if t != MIGRATIONS_TABLE]
    parents = {t: _parents(db, t) & set(tables) for t in tables}
    ordered: list[str] = []
    while len(ordered) < len(tables):
        ready = [t for t in tables if t not in ordered and parents[t] <= set(ordered)]
        if not ready:  # a cycle of references: none in our schema, but do not loop forever
            ready = [t for t in tables if t not in ordered]
        ordered.extend(sorted(ready))
    return ordered


def _parents(db: Database, table: str) -> set[str]:
    if db.dialect == POSTGRESQL:
        rows = db.query(
            "SELECT DISTINCT ccu.table_name FROM information_schema.table_constraints tc "
            "JOIN information_schema.constraint_column_usage ccu ON ccu.constraint_name = tc.constraint_name "
            "AND ccu.table_schema = tc.table_schema "
            "WHERE tc.constraint_type = 'FOREIGN KEY' AND tc.table_schema = current_schema() AND tc.table_name = ?",
            (table,),
        )
        return {str(r[0]) for r in rows} - {table}
    return {str(r["table"]) for r in db.query(f"PRAGMA foreign_key_list({table})")} - {table}


def copy_state(
    source: Database,
    target: Database,
    replace: bool = False,
    progress: Callable[[str, int], None] | None = None,
) -> list[TableCopy]:
    """Copy every row of `source` into `target` (both already migrated); returns what each table got.

    Raises CopyRefused before writing anything when the target holds rows (unless `replace`,
    which empties it first, in the same transaction), or when the two schemas differ.
    """
    if source.url == target.url:
        raise CopyRefused("the source and the target are the same database")
    if source.applied_migrations() != target.applied_migrations():
        raise CopyRefused(
            f"the two databases have different migrations: {source.applied_migrations()} "
            f"vs {target.applied_migrations()}; run the same newsbot version on both"
        )
    tables = copy_order(source)
    if set(tables) != set(copy_order(target)):
        raise CopyRefused(f"the target's tables differ: {sorted(tables)} vs {sorted(copy_order(target))}")
    columns = {t: source.columns(t) for t in tables}
    for table in tables:
        if target.columns(table) != columns[table]:
            raise CopyRefused(f"table {table}: columns {columns[table]} vs {target.columns(table)} in the target")
    busy = {
        t: n for t in tables if t not in RUNTIME_TABLES and (n := int(target.query(f"SELECT COUNT(*) FROM {t}")[0][0]))
    }
    if busy and not replace:
        listed = ", ".join(f"{t} ({n} rows)" for t, n in busy.items())
        raise CopyRefused(f"the target already holds state: {listed}; pass --replace to overwrite it")

    report: list[TableCopy] = []
    with source.transaction() as read, target.transaction() as write:
        for table in reversed(tables):
            write.execute(f"DELETE FROM {table}")
        for table in tables:
            names = columns[table]
            insert = f"INSERT INTO {table} ({', '.join(names)}) VALUES ({', '.join('?' * len(names))})"
            cursor = read.execute(f"SELECT {', '.join(names)} FROM {table}")
            copied = 0
            while rows := cursor.fetchmany(BATCH):
                write.executemany(insert, [tuple(r) for r in rows])
                copied += len(rows)
                if progress is not None:
                    progress(table, copied)
        if target.dialect == POSTGRESQL:
            _advance_sequences(write, tables)
        for table in tables:
            rows, digest = table_digest(read, table, columns[table])
            copied_rows, copied_digest = table_digest(write, table, columns[table])
            report.append(TableCopy(table, rows, copied_rows, digest == copied_digest))
        wrong = [r for r in report if r.source_rows != r.target_rows or not r.same_contents]
        if wrong:
            # Raising inside the transaction rolls the target back: nothing half-copied remains.
            raise CopyRefused("the copy does not match its source: " + ", ".join(r.table for r in wrong))
    log.info("copied state %s -> %s: %s", source.name, target.name, {r.table: r.target_rows for r in report})
    return report


def _advance_sequences(conn: Connection, tables: list[str]) -> None:
    """Identity columns continue after the highest copied id (not at 1, which a copied row holds)."""
    rows = conn.execute(
        "SELECT table_name, column_name FROM information_schema.columns "
        "WHERE table_schema = current_schema() AND is_identity = 'YES'"
    ).fetchall()
    for table, column in rows:
        if table not in tables:
            continue
        conn.execute(
            f"SELECT setval(pg_get_serial_sequence('{table}', '{column}'), "
            f"COALESCE(MAX({column}), 0) + 1, false) FROM {table}"
        )
