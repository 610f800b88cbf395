"""`newsbot state`: looking at and moving the bot's durable state.

    newsbot state migrate --to postgresql://user@host/db [--from URL] [--replace]
    newsbot state info [--json]

`migrate` copies the configured state (or `--from`) into another database, creating its schema
first: the way from a street office's SQLite file to a district's PostgreSQL server. It refuses a
target that already holds state unless `--replace` is given. Stop the bot before migrating.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Callable
from typing import Any

from bot.core.settings import STATE_URL_ENV, Settings
from bot.core.state import DATABASE_ERRORS, Database
from bot.core.state_copy import CopyRefused, copy_order, copy_state
from bot.core.state_dialect import StateUrlError, redact

EXIT_OK, EXIT_FAILED, EXIT_USAGE = 0, 1, 2


def _open(url: str, role: str) -> Database:
    try:
        return Database(url)  # a StateUrlError names a malformed URL or a missing psycopg
    except StateUrlError as exc:
        raise StateUrlError(f"{role}: {exc}") from exc


def cmd_state_migrate(settings: Settings, args: argparse.Namespace) -> int:
    """Copy every table of the bot's state into another database (e.g. SQLite -> PostgreSQL).

    The target's schema is created by the same named migrations; the copy is one transaction
    (all or nothing), checked table by table (row counts and contents) before it is committed.
    """
    source_url = args.source or settings.state_url
    try:
        source = _open(source_url, "source")
        try:
            target = _open(args.to, "target")
        except BaseException:
            source.close()
            raise
    except StateUrlError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DATABASE_ERRORS as exc:
        print(f"error: cannot open the database: {exc}", file=sys.stderr)
        return EXIT_FAILED
    try:
        print(f"copying {source.name} -> {target.name}", file=sys.stderr)
        report = copy_state(source, target, replace=args.replace, progress=_progress if args.verbose else None)
    except CopyRefused as exc:
        print(f"refused: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DATABASE_ERRORS as exc:
        print(f"error: the copy failed and was rolled back: {exc}", file=sys.stderr)
        return EXIT_FAILED
    finally:
        source.close()
        target.close()
    for row in report:
        print(f"{row.table:<22} {row.target_rows:>10,} rows  (contents equal)")
    print(f"done: set state.url (or ${STATE_URL_ENV}) to {redact(args.to)} and start the workers", file=sys.stderr)
    return EXIT_OK


def _progress(table: str, copied: int) -> None:
    print(f"  {table}: {copied:,} rows", file=sys.stderr)


def cmd_state_info(settings: Settings, args: argparse.Namespace) -> int:
    """Which state database the configuration names, its migrations and each table's rows."""
    try:
        db = _open(settings.state_url, "state")
    except StateUrlError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DATABASE_ERRORS as exc:
        print(f"error: cannot open the database: {exc}", file=sys.stderr)
        return EXIT_FAILED
    try:
        info: dict[str, Any] = {
            "url": redact(db.url),
            "dialect": db.dialect,
            "migrations": db.applied_migrations(),
            "rows": {t: int(db.query(f"SELECT COUNT(*) FROM {t}")[0][0]) for t in copy_order(db)},
        }
    finally:
        db.close()
    if args.json:
        print(json.dumps(info, ensure_ascii=False, indent=2))
    else:
        print(f"{info['url']} ({info['dialect']}), migrations: {', '.join(info['migrations'])}")
        for table, rows in info["rows"].items():
            print(f"{table:<22} {rows:>10,} rows")
    return EXIT_OK


def add_state_parser(subparsers: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    """Register `newsbot state` and its subcommands (called by bot.cli)."""
    state = subparsers.add_parser(
        "state",
        help="inspect or move the bot's state database",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    actions = state.add_subparsers(dest="state_command", metavar="ACTION")
    p = actions.add_parser(
        "migrate",
        help="copy the state into another database (SQLite -> PostgreSQL)",
        description=cmd_state_migrate.__doc__,
    )
    common(p)
    p.add_argument(
        "--to", required=True, metavar="URL", help="target: postgresql://user:password@host/db or sqlite:///PATH"
    )
    p.add_argument(
        "--from",
        dest="source",
        metavar="URL",
        help="source (default: the configured state, state.url or the SQLite file)",
    )
    p.add_argument("--replace", action="store_true", help="empty a target that already holds state, then copy")
    p.set_defaults(func=cmd_state_migrate)
    p = actions.add_parser(
        "info", help="the configured state database and its rows", description=cmd_state_info.__doc__
    )
    common(p)
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_state_info)
    # `newsbot state` alone prints its usage; main() still reads the common options.
    state.set_defaults(func=lambda settings, args: _usage(state), config=None, corpus=None, index=None, verbose=False)


def _usage(parser: argparse.ArgumentParser) -> int:
    parser.print_help(sys.stderr)
    return EXIT_USAGE
