"""Shared fixtures: the bundled corpus indexed once per session, an engine over it, a fake Bot API
server, settings that point the bot at it through `telegram.base_url`, a running resident bot, and
staff-side services over a private copy of the corpus. The helpers behind them live in
`corpora.py`, `configs.py` and `bots.py`."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest
from bots import RunningBot, make_services, running_bot
from configs import make_settings, write_settings
from corpora import indexed_corpus
from fake_bot_api import FakeBotApi

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
