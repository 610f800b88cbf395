"""Shared fixtures: the bundled corpus indexed once per session, an engine over it, a fake Bot API
server, settings that point the bot at it through `telegram.base_url`, a running resident bot, and
staff-side services over a private copy of the corpus. The helpers behind them live in
`corpora.py`, `configs.py` and `bots.py`. A real PostgreSQL server (one per run, a fresh database
per test, from `pg_helpers.py`) serves the state tests that run on both backends."""

from __future__ import annotations

import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from bots import RunningBot, make_services, running_bot
from configs import make_settings, write_settings
from corpora import indexed_corpus
from fake_bot_api import FakeBotApi
from pg_helpers import PostgresServer

from bot.core.services import BotServices
from bot.core.settings import Settings
from index.search import SearchEngine
from index.settings import SearchSettings


@pytest.fixture(scope="session")
def corpus_index() -> Path:
    """The index of the bundled corpus, built once for the whole session."""
    return indexed_corpus() / "data" / "index"


@pytest.fixture(scope="session")
def engine(corpus_index: Path) -> SearchEngine:
    """One engine over the session index (loading jieba once keeps the suite fast)."""
    return SearchEngine.open(corpus_index, SearchSettings())


@pytest.fixture(scope="session")
def postgres_server() -> Iterator[PostgresServer]:
    """One PostgreSQL server for the whole run, started the first time a test asks for it.

    Its directory is not under pytest's temporary root: pytest runs started meanwhile (another
    checkout on this machine) delete old roots, and with them a live server's data.
    """
    directory = Path(tempfile.mkdtemp(prefix="newsbot-postgres-"))
    server = PostgresServer(directory / "data")
    try:
        yield server
    finally:
        server.stop()
        shutil.rmtree(directory, ignore_errors=True)


@pytest.fixture
def postgres_url(postgres_server: PostgresServer) -> Iterator[str]:
    """The URL of a new, empty PostgreSQL database for this test."""
    with postgres_server.fresh_database() as url:
        yield url


@pytest.fixture(params=["sqlite", "postgresql"])
def state_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """A fresh state database on each backend in turn: `sqlite:///...` and `postgresql://...`."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'state.sqlite3'}"
    return str(request.getfixturevalue("postgres_url"))


@pytest.fixture
def api() -> Iterator[FakeBotApi]:
    """A fake Bot API server on 127.0.0.1."""
    with FakeBotApi() as server:
        yield server


@pytest.fixture
def settings(tmp_path: Path, api: FakeBotApi, corpus_index: Path) -> Settings:
    """Settings for a bot talking to `api` over the bundled corpus, with its own data directory."""
    return write_settings(tmp_path, api, corpus_index)


@pytest.fixture
async def bot(settings: Settings, api: FakeBotApi, engine: SearchEngine) -> AsyncIterator[RunningBot]:
    """The resident bot, running against the fake server on the bundled corpus."""
    async with running_bot(make_services(settings, engine), api) as running:
        yield running


@pytest.fixture
def staff_settings(tmp_path: Path, api: FakeBotApi) -> Settings:
    """Settings over a private copy of the corpus and index, with an admin and a staff member, aimed at `api`."""
    return make_settings(tmp_path, api)


@pytest.fixture
def services(staff_settings: Settings) -> Iterator[BotServices]:
    """Services over `staff_settings` (a module that needs subscribers overrides this and adds them)."""
    services = make_services(staff_settings)
    yield services
    services.db.close()
