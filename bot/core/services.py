"""What every handler reaches through `context.bot_data["services"]`: settings, engine, database."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from bot.core.settings import Settings
from bot.core.state import Database
from index.maintenance import EngineHolder

SERVICES_KEY = "services"


@dataclass
class BotServices:
    """The long-lived objects of one bot process."""

    settings: Settings
    holder: EngineHolder
    db: Database
    # Room for components that need per-process state (rate limiters, the broadcast sender...).
    extras: dict[str, Any] = field(default_factory=dict)


def services_of(bot_data: Any) -> BotServices:
    """The services stored in an Application's bot_data."""
    services = bot_data[SERVICES_KEY]
    assert isinstance(services, BotServices)
    return services
