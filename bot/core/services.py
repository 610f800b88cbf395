"""The long-lived objects of one bot process, the same for Telegram and the terminal chat:
settings, the engine holder and the state database (`BotServices`).

The Telegram edge keeps its own per-process state (rate limiter, listings, uploads, the
broadcast sender...) in its typed `bot_data` (bot.edge.context), not here.
"""

from __future__ import annotations

from dataclasses import dataclass

from bot.core.settings import Settings
from bot.core.state import Database
from index.maintenance import EngineHolder
from index.search import SearchEngine


@dataclass
class DigestCache:
    """Short article digests (in buttons and deep links) -> article ids, for one engine."""

    engine: SearchEngine
    ids: dict[str, str]


@dataclass
class BotServices:
    """The long-lived objects of one bot process."""

    settings: Settings
    holder: EngineHolder
    db: Database
    # Rebuilt when the engine changes (bot.core.resident_actions.find_article).
    digests: DigestCache | None = None
