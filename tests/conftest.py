"""Shared fixtures: the bundled corpus indexed once per session, a fake Bot API server, settings
that point the bot at it through `telegram.base_url`, a running resident bot, and a real
PostgreSQL server (one per run, a fresh database per test) for the state backends."""

from __future__ import annotations

import contextlib
import shutil
import tempfile
from collections.abc import AsyncIterator, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
import yaml
from fake_bot_api import FakeBotApi
from pg_helpers import PostgresServer
from telegram.ext import Application

from bot.app import build_application, start_application, stop_application
from bot.services import BotServices
from bot.settings import Settings, load_settings
from bot.state import Database
from index.maintenance import EngineHolder, open_engine
from index.search import SearchEngine
from index.settings import IndexParams, SearchSettings

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
TOKEN = "123456:TEST-resident-bot-token-0123456789"
JSON = dict[str, Any]


@pytest.fixture(scope="session")
def corpus_index(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The bundled corpus, indexed once for the whole session."""
    index_dir = tmp_path_factory.mktemp("index") / "index"
    open_engine(CORPUS, index_dir, IndexParams(), SearchSettings())
    return index_dir


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


def write_settings(
    directory: Path, api: FakeBotApi, index_dir: Path, corpus_dir: Path = CORPUS, **telegram: Any
) -> Settings:
    """A config.yaml aimed at the fake server, read back the way `newsbot` reads it.

    Tests act faster than any resident, so the burst allowance is generous unless a test
    (the slow-down one) passes its own.
    """
    config = {
        "corpus_dir": str(corpus_dir),
        "data_dir": str(directory / "data"),
        "telegram": {
            "base_url": api.base_url,
            "base_file_url": api.base_file_url,
            "poll_timeout": 0.2,
            "burst": 50,
            **telegram,
        },
    }
    path = directory / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return load_settings(path, index=str(index_dir))


@pytest.fixture
def settings(tmp_path: Path, api: FakeBotApi, corpus_index: Path) -> Settings:
    """Settings for a bot talking to `api`, with its own data directory."""
    return write_settings(tmp_path, api, corpus_index)


@dataclass
class RunningBot:
    """A started Application and helpers to talk to it through the fake server."""

    app: Application  # type: ignore[type-arg]
    api: FakeBotApi
    services: BotServices

    async def say(self, chat_id: int, text: str, count: int = 1, **kwargs: Any) -> list[JSON]:
        """Send a message and wait for `count` new messages to that chat; returns them."""
        before = len(self.api.sent_messages(chat_id))
        self.api.message_update(chat_id, text, **kwargs)
        sent = await self.api.wait_for_messages_async(chat_id, before + count, timeout=30)
        return sent[before:]

    async def ask(self, chat_id: int, text: str, **kwargs: Any) -> JSON:
        """Send a message and return the one reply."""
        return (await self.say(chat_id, text, **kwargs))[0]

    async def press(self, chat_id: int, message_id: int, data: str) -> None:
        """Press a button and wait until the bot answered the press."""
        before = len(self.api.calls("answerCallbackQuery"))
        self.api.callback_update(chat_id, message_id, data)
        await self.api.wait_for_calls_async("answerCallbackQuery", before + 1, timeout=30)

    def last_message_id(self, chat_id: int) -> int:
        """The id of the newest message the bot sent to a chat."""
        for message_id in range(200, 0, -1):
            message = self.api.message(chat_id, message_id)
            if message is not None and message.get("from", {}).get("is_bot"):
                return message_id
        raise AssertionError(f"the bot sent nothing to chat {chat_id}")


def buttons(message: JSON) -> dict[str, str]:
    """Button text -> callback data (or URL) of a sent or stored message."""
    markup = message.get("reply_markup") or {}
    return {
        b["text"]: b.get("callback_data") or b.get("url", "") for row in markup.get("inline_keyboard", []) for b in row
    }


def make_services(settings: Settings, engine: SearchEngine | None = None) -> BotServices:
    """Services as `run_bot` makes them, reusing a loaded engine when given."""
    if engine is None:
        engine, _ = open_engine(settings.corpus_dir, settings.index_dir, settings.index, settings.search)
    holder = EngineHolder(engine, settings.corpus_dir, settings.index_dir, settings.index, settings.search)
    return BotServices(settings, holder, Database(settings.state_url))


@contextlib.asynccontextmanager
async def running_bot(
    settings: Settings, api: FakeBotApi, engine: SearchEngine | None = None, services: BotServices | None = None
) -> AsyncIterator[RunningBot]:
    """Build, start and (on exit) stop the real Application against the fake server."""
    services = services or make_services(settings, engine)
    app = build_application(services, TOKEN)
    await start_application(app)
    try:
        yield RunningBot(app, api, services)
    finally:
        await stop_application(app)


@pytest.fixture
async def bot(settings: Settings, api: FakeBotApi, engine: SearchEngine) -> AsyncIterator[RunningBot]:
    """The resident bot, running against the fake server on the bundled corpus."""
    async with running_bot(settings, api, engine) as running:
        yield running


def copy_corpus_and_index(corpus_index: Path, directory: Path) -> tuple[Path, Path]:
    """A private copy of the corpus and its index (for tests that publish into them)."""
    corpus = directory / "corpus"
    index = directory / "index"
    shutil.copytree(CORPUS, corpus)
    shutil.copytree(corpus_index, index)
    return corpus, index
