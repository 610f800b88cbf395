"""The real bot against the fake Bot API: services built the way `newsbot run` builds them, a
started Application with helpers to talk to it as a resident (`RunningBot`) or as staff
(`upload`, `press`, `publish`), subscribers written straight into the state database, and
readers of what the bot shows in a chat (`buttons`, `bot_messages`, `wait_for_bot_message`)."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any

from configs import STAFF
from fake_bot_api import FakeBotApi
from telegram.ext import Application

from bot.core.services import BotServices
from bot.core.settings import Settings
from bot.core.state import Database
from bot.edge.app import build_application, open_services, start_application, stop_application
from index.maintenance import EngineHolder
from index.search import SearchEngine

TOKEN = "123456:TEST-bot-token-0123456789"
JSON = dict[str, Any]


def make_services(settings: Settings, engine: SearchEngine | None = None) -> BotServices:
    """Services as `newsbot run` opens them, or around an already loaded engine when given."""
    if engine is None:
        return open_services(settings)
    holder = EngineHolder(
        engine, settings.corpus_dir, settings.index_dir, settings.index, settings.search, settings.workers
    )
    return BotServices(settings, holder, Database(settings.state_url))


def buttons(message: JSON) -> dict[str, str]:
    """Button text -> callback data (or URL) of a sent or stored message."""
    markup = message.get("reply_markup") or {}
    return {
        b["text"]: b.get("callback_data") or b.get("url", "") for row in markup.get("inline_keyboard", []) for b in row
    }


def bot_messages(api: FakeBotApi, chat_id: int) -> list[tuple[int, JSON]]:
    """(message id, current state) of every message the bot has in a chat, oldest first."""
    out = []
    for message_id in range(1, 500):
        message = api.message(chat_id, message_id)
        if message is not None and message.get("from", {}).get("is_bot"):
            out.append((message_id, message))
    return out


async def settle(app: Application, api: FakeBotApi, timeout: float = 30.0) -> None:  # type: ignore[type-arg]
    """Until the application has fetched every update queued at the server and finished handling it.

    A check that the bot sent nothing waits on this instead of a fixed sleep. The fake server drops
    an update once a later getUpdates confirms it, which the updater sends only after putting the
    update in the application's queue; the queue counts an update done when its handlers returned.
    """
    await api.wait_for_async(lambda: not api.pending_updates(), timeout=timeout, message="every update fetched")
    await asyncio.wait_for(app.update_queue.join(), timeout)


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

    async def settle(self, timeout: float = 30.0) -> None:
        """Until every update sent so far has been fetched and handled (see `settle`)."""
        await settle(self.app, self.api, timeout)

    def last_message_id(self, chat_id: int) -> int:
        """The id of the newest message the bot sent to a chat."""
        messages = bot_messages(self.api, chat_id)
        if not messages:
            raise AssertionError(f"the bot sent nothing to chat {chat_id}")
        return messages[-1][0]


@contextlib.asynccontextmanager
async def running_bot(services: BotServices, api: FakeBotApi) -> AsyncIterator[RunningBot]:
    """Build, start and (on exit) stop the real Application (resident and staff handlers) against `api`."""
    app = build_application(services, TOKEN)
    await start_application(app)
    try:
        yield RunningBot(app, api, services)
    finally:
        await stop_application(app)


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


async def wait_for_bot_message(api: FakeBotApi, chat_id: int, contains: str, timeout: float = 30.0) -> tuple[int, JSON]:
    """The first bot message in the chat whose current text contains `contains` (waits for it)."""

    def find() -> tuple[int, JSON] | None:
        for message_id, message in bot_messages(api, chat_id):
            if contains in str(message.get("text", "")):
                return message_id, message
        return None

    found = await api.wait_for_async(find, timeout=timeout, message=f"a message containing {contains!r}")
    assert found is not None
    return found


async def press(api: FakeBotApi, message_id: int, label: str, expect: str) -> JSON:
    """Press the button whose text starts with `label` on a staff message; wait until it says `expect`."""
    message = api.message(STAFF, message_id)
    assert message is not None
    matching = [data for text, data in buttons(message).items() if text.startswith(label)]
    assert matching, f"no button {label!r} in {list(buttons(message))}"
    api.callback_update(STAFF, message_id, matching[0], user_id=STAFF)

    def edited() -> JSON | None:
        current = api.message(STAFF, message_id)
        return current if current is not None and expect in str(current.get("text", "")) else None

    shown = await api.wait_for_async(edited, timeout=30, message=f"message {message_id} saying {expect!r}")
    assert shown is not None
    return shown


async def upload(api: FakeBotApi, name: str, data: bytes, caption: str, expect: str) -> tuple[int, JSON]:
    """Send a file as staff; the bot's new message saying `expect` (broadcast reports may come between)."""
    seen = max((i for i, _ in bot_messages(api, STAFF)), default=0)
    api.document_update(STAFF, name, data, caption=caption, user_id=STAFF)

    def reply() -> tuple[int, JSON] | None:
        new = [(i, m) for i, m in bot_messages(api, STAFF) if i > seen and expect in str(m.get("text", ""))]
        return new[0] if new else None

    found = await api.wait_for_async(reply, timeout=30, message=f"a reply to {name} saying {expect!r}")
    assert found is not None
    return found


async def publish(api: FakeBotApi, name: str, text: str, caption: str) -> None:
    """Upload a text issue as staff and press 发布 on its preview."""
    message_id, _ = await upload(api, name, text.encode(), caption, "预览")
    await press(api, message_id, "✅ 发布", "已发布")


def max_in_one_second(times: list[float]) -> int:
    """The most of `times` (seconds) that fall within any one second."""
    times = sorted(times)
    best, start = 0, 0
    for end, t in enumerate(times):
        while t - times[start] >= 1.0:
            start += 1
        best = max(best, end - start + 1)
    return best
