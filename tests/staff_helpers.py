"""Shared set-up for the staff and broadcast tests: a corpus with a prebuilt index copied per
test, settings pointing at the fake Bot API, subscribers, and a running bot application."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import yaml
from fake_bot_api import FakeBotApi

from bot.services import BotServices
from bot.settings import BroadcastSettings, RoleSettings, Settings, TelegramSettings
from bot.state import Database
from index.maintenance import open_engine
from index.settings import IndexParams, SearchSettings

ROOT = Path(__file__).resolve().parents[1]
TOKEN = "123456:TEST-staff-token"
ADMIN, STAFF, RESIDENT = 1001, 1002, 5005

NEW_ISSUE = """天山路街道开设老年助餐点

本月起，天山路街道在娄山关路新开一家老年助餐点，每天中午为社区老人供应午餐，八十岁以上老人享受优惠。

(社区办)

居民议事会讨论加装电梯

日前，天山路街道多个小区召开居民议事会，围绕老旧住宅加装电梯的费用分摊和施工安排展开讨论，大家各抒己见。

(自治办)

社区图书馆延长开放时间

为方便上班族，社区图书馆自下月起每周三晚上开放到九点，欢迎居民前来借阅图书和参加读书活动。

(文化中心)
"""


@functools.cache
def _template() -> Path:
    """The sample corpus and its index, built once per test process."""
    base = Path(tempfile.mkdtemp(prefix="newsbot-staff-template-"))
    atexit.register(shutil.rmtree, base, True)
    shutil.copytree(ROOT / "corpus", base / "corpus")
    open_engine(base / "corpus", base / "data" / "index", IndexParams(), SearchSettings(), workers=1)
    return base


def make_settings(
    root: Path,
    api: Any = None,
    *,
    rate: float = 200.0,
    per_chat_interval: float = 1.0,
    progress_every: float = 0.3,
    max_attempts: int = 3,
) -> Settings:
    """Settings over a private copy of the sample corpus and index under `root`."""
    template = _template()
    shutil.copytree(template / "corpus", root / "corpus")
    shutil.copytree(template / "data", root / "data")
    telegram = TelegramSettings()
    if api is not None:
        telegram = TelegramSettings(
            base_url=api.base_url, base_file_url=api.base_file_url, poll_timeout=0.2, burst=1000, rate_per_second=1000
        )
    return Settings(
        config_path=root / "config.yaml",
        corpus_dir=root / "corpus",
        data_dir=root / "data",
        workers=1,
        telegram=telegram,
        roles=RoleSettings(admins=(ADMIN,), staff=(STAFF,)),
        broadcast=BroadcastSettings(
            messages_per_second=rate,
            per_chat_interval=per_chat_interval,
            max_attempts=max_attempts,
            progress_every=progress_every,
        ),
    )


def write_cli_config(settings: Settings, **extra: Any) -> Path:
    """A config.yaml beside the settings' data directory for `newsbot` commands over its corpus."""
    path = settings.data_dir.parent / "config.yaml"
    config = {"corpus_dir": str(settings.corpus_dir), "data_dir": str(settings.data_dir), **extra}
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path


def make_services(settings: Settings) -> BotServices:
    """Services the way `bot.app.open_services` makes them (the index is current: no build)."""
    from bot.app import open_services

    return open_services(settings)


def add_subscribers(db: Database, streets: dict[int, str], active: bool = True) -> None:
    """Subscribe each chat to its street ("*" = every street)."""
    now = time.time()
    with db.transaction() as conn:
        for chat, street in streets.items():
            conn.execute(
                "INSERT INTO subscribers (chat_id, since, active, blocked_at, updated_at) VALUES (?, ?, ?, NULL, ?) "
                "ON CONFLICT (chat_id) DO UPDATE SET since = excluded.since, active = excluded.active, "
                "blocked_at = NULL, updated_at = excluded.updated_at",
                (chat, now, int(active), now),
            )
            conn.execute(
                "INSERT INTO subscriptions (chat_id, street, since) VALUES (?, ?, ?) ON CONFLICT DO NOTHING",
                (chat, street, now),
            )


@asynccontextmanager
async def running_bot(services: BotServices) -> AsyncIterator[Any]:
    """The real bot application (resident and staff handlers), polling the fake server."""
    from bot.app import build_application, start_application, stop_application

    application = build_application(services, TOKEN)
    await start_application(application)
    try:
        yield application
    finally:
        await stop_application(application)


def buttons(message: dict[str, Any]) -> dict[str, str]:
    """Button text -> callback data of a sent or stored message."""
    markup = message.get("reply_markup") or {}
    return {b["text"]: b.get("callback_data", "") for row in markup.get("inline_keyboard", []) for b in row}


def bot_messages(api: Any, chat_id: int) -> list[tuple[int, dict[str, Any]]]:
    """(message id, current state) of every message the bot has in a chat, oldest first."""
    out = []
    for message_id in range(1, 500):
        message = api.message(chat_id, message_id)
        if message is not None and message.get("from", {}).get("is_bot"):
            out.append((message_id, message))
    return out


async def wait_for_bot_message(
    api: Any, chat_id: int, contains: str, timeout: float = 30.0
) -> tuple[int, dict[str, Any]]:
    """The first bot message in the chat whose current text contains `contains` (waits for it)."""

    def find() -> tuple[int, dict[str, Any]] | None:
        for message_id, message in bot_messages(api, chat_id):
            if contains in str(message.get("text", "")):
                return message_id, message
        return None

    found = await api.wait_for_async(find, timeout=timeout, message=f"a message containing {contains!r}")
    assert found is not None
    return found


async def press(api: FakeBotApi, message_id: int, label: str, expect: str) -> dict[str, Any]:
    """Press the button whose text starts with `label` on a staff message; wait until it says `expect`."""
    message = api.message(STAFF, message_id)
    assert message is not None
    matching = [data for text, data in buttons(message).items() if text.startswith(label)]
    assert matching, f"no button {label!r} in {list(buttons(message))}"
    api.callback_update(STAFF, message_id, matching[0], user_id=STAFF)

    def edited() -> dict[str, Any] | None:
        current = api.message(STAFF, message_id)
        return current if current is not None and expect in str(current.get("text", "")) else None

    shown = await api.wait_for_async(edited, timeout=30, message=f"message {message_id} saying {expect!r}")
    assert shown is not None
    return shown


async def upload(api: FakeBotApi, name: str, data: bytes, caption: str, expect: str) -> tuple[int, dict[str, Any]]:
    """Send a file as staff; the bot's new message saying `expect` (broadcast reports may come between)."""
    seen = max((i for i, _ in bot_messages(api, STAFF)), default=0)
    api.document_update(STAFF, name, data, caption=caption, user_id=STAFF)

    def reply() -> tuple[int, dict[str, Any]] | None:
        new = [(i, m) for i, m in bot_messages(api, STAFF) if i > seen and expect in str(m.get("text", ""))]
        return new[0] if new else None

    found = await api.wait_for_async(reply, timeout=30, message=f"a reply to {name} saying {expect!r}")
    assert found is not None
    return found


async def publish(api: FakeBotApi, name: str, text: str, caption: str) -> None:
    message_id, _ = await upload(api, name, text.encode(), caption, "预览")
    await press(api, message_id, "✅ 发布", "已发布")
