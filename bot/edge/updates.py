"""Reading updates from long polling without letting one bad update stop the bot.

python-telegram-bot parses a whole getUpdates batch at once; one update it cannot parse (a
malformed poll, a field from a newer Bot API) makes the batch fail, the updater asks for the
same offset again, and the bot loops on it forever, writing a traceback each time. `TolerantBot`
parses each update on its own, logs an unparsable one once (bounded in length) and skips it,
moving the offset past it so Telegram forgets it.
"""

from __future__ import annotations

import datetime as dtm
import logging
from collections.abc import Sequence
from typing import Any, cast

from telegram import Update
from telegram.ext import ExtBot

log = logging.getLogger(__name__)

# Characters of a skipped update kept in the log line.
LOGGED_CHARS = 500


class TolerantBot(ExtBot[None]):
    """ExtBot whose get_updates skips (and logs once) each update that cannot be parsed."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # Every update below this id has been handed out or skipped.
        self._confirmed_below = 0
        self._skipped = 0

    async def get_updates(
        self,
        offset: int | None = None,
        limit: int | None = None,
        timeout: int | float | dtm.timedelta | None = None,
        allowed_updates: Sequence[str] | None = None,
        *,
        read_timeout: Any = None,
        write_timeout: Any = None,
        connect_timeout: Any = None,
        pool_timeout: Any = None,
        api_kwargs: dict[str, Any] | None = None,
    ) -> tuple[Update, ...]:
        # Timeouts that are not numbers (PTB's "use the default" marker) fall back to the request's.
        if self._confirmed_below and (offset is None or 0 <= offset < self._confirmed_below):
            offset = self._confirmed_below  # acknowledges skipped updates to Telegram
        seconds = timeout.total_seconds() if isinstance(timeout, dtm.timedelta) else float(timeout or 0)
        base_read = read_timeout if isinstance(read_timeout, int | float) else self._request[0].read_timeout
        data: dict[str, Any] = {
            "timeout": timeout,
            "offset": offset,
            "limit": limit,
            "allowed_updates": allowed_updates,
        }
        kwargs: dict[str, Any] = {"read_timeout": (base_read or 0) + seconds}
        for name, value in (
            ("write_timeout", write_timeout),
            ("connect_timeout", connect_timeout),
            ("pool_timeout", pool_timeout),
        ):
            if isinstance(value, int | float):
                kwargs[name] = value
        result = cast("list[dict[str, Any]]", await self._post("getUpdates", data, api_kwargs=api_kwargs, **kwargs))
        updates: list[Update] = []
        for raw in result or []:
            update_id = raw.get("update_id") if isinstance(raw, dict) else None
            if isinstance(update_id, int):
                self._confirmed_below = max(self._confirmed_below, update_id + 1)
            try:
                update = Update.de_json(raw, self)
            except Exception as exc:
                self._skipped += 1
                log.warning(
                    "skipped update %s that could not be read (%s: %s): %.*s",
                    update_id,
                    type(exc).__name__,
                    exc,
                    LOGGED_CHARS,
                    repr(raw),
                )
                continue
            self.insert_callback_data(update)
            updates.append(update)
        return tuple(updates)
