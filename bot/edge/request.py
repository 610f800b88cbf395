"""The bot's HTTP layer: python-telegram-bot's HTTPXRequest with bounded retries.

A reply that meets a 429, a 5xx or a connection that never opened is tried again, with a
bounded back-off (and Telegram's own `retry_after` on a 429), instead of turning a resident's
answer into an error message. Only failures that prove Telegram did not act on the request are
retried, so a message Telegram already accepted is never sent twice:

* a connection that could not be opened, or no free connection in the pool (the request was
  never written);
* a 429 (Telegram refused the call) or a 5xx answer (Telegram did not carry it out).

A timeout or a dropped connection after the request was written is ambiguous (the message may
have been delivered) and is raised as before. Broadcasts use their own request and retry state
machine (bot.edge.sender) and long polling has the updater's own loop; this class serves the
application's ordinary calls.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import Awaitable, Callable
from http import HTTPStatus
from typing import Any

import httpx
from telegram.error import NetworkError, TimedOut
from telegram.request import HTTPXRequest, RequestData

log = logging.getLogger(__name__)

# Tries per call (the first one included) and the back-off between them.
MAX_ATTEMPTS = 4
FIRST_BACKOFF = 0.25
MAX_BACKOFF = 4.0
# A 429 asking for a longer wait than this is passed on: a resident would not wait so long.
MAX_RETRY_AFTER = 30.0

# httpx errors raised before any byte of the request reached the server.
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


def surely_not_sent(error: BaseException) -> bool:
    """Whether a PTB network error proves the request never reached the server."""
    if not isinstance(error, NetworkError | TimedOut):
        return False
    cause = error.__cause__
    return isinstance(cause, _NOT_SENT)


def _retry_after(payload: bytes) -> float | None:
    """The `retry_after` of a 429 answer, if it carries one."""
    try:
        data = json.loads(payload.decode("utf-8", "replace"))
    except ValueError:
        return None
    parameters = data.get("parameters") if isinstance(data, dict) else None
    value = parameters.get("retry_after") if isinstance(parameters, dict) else None
    if isinstance(value, int | float) and not isinstance(value, bool) and value >= 0:
        return float(value)
    return None


def backoff(attempt: int) -> float:
    """Seconds to wait after the `attempt`-th failed try (1-based), doubling up to a cap."""
    return float(min(MAX_BACKOFF, FIRST_BACKOFF * 2 ** (attempt - 1)))


class RetryingRequest(HTTPXRequest):
    """HTTPXRequest that retries 429, 5xx and never-opened connections a bounded number of times."""

    def __init__(
        self,
        *args: Any,
        max_attempts: int = MAX_ATTEMPTS,
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
        **kwargs: Any,
    ) -> None:
        super().__init__(*args, **kwargs)
        self.max_attempts = max(1, max_attempts)
        self._sleep = sleep
        self.retries = 0  # counted for tests and logs

    async def do_request(
        self,
        url: str,
        method: str,
        request_data: RequestData | None = None,
        read_timeout: Any = HTTPXRequest.DEFAULT_NONE,
        write_timeout: Any = HTTPXRequest.DEFAULT_NONE,
        connect_timeout: Any = HTTPXRequest.DEFAULT_NONE,
        pool_timeout: Any = HTTPXRequest.DEFAULT_NONE,
    ) -> tuple[int, bytes]:
        endpoint = url.rsplit("/", 1)[-1]
        attempt = 1
        while True:
            try:
                code, payload = await super().do_request(
                    url,
                    method,
                    request_data=request_data,
                    read_timeout=read_timeout,
                    write_timeout=write_timeout,
                    connect_timeout=connect_timeout,
                    pool_timeout=pool_timeout,
                )
            except (NetworkError, TimedOut) as exc:
                if attempt >= self.max_attempts or not surely_not_sent(exc):
                    raise
                wait = backoff(attempt)
                log.info("%s not sent (%s); try %d in %.2fs", endpoint, exc, attempt + 1, wait)
            else:
                if code == HTTPStatus.TOO_MANY_REQUESTS:
                    retry_after = _retry_after(payload)
                    if attempt >= self.max_attempts or retry_after is None or retry_after > MAX_RETRY_AFTER:
                        return code, payload
                    wait = max(retry_after, backoff(attempt))
                    log.info("%s throttled; try %d after %.1fs", endpoint, attempt + 1, wait)
                elif code >= HTTPStatus.INTERNAL_SERVER_ERROR and attempt < self.max_attempts:
                    wait = backoff(attempt)
                    log.info("%s answered %d; try %d in %.2fs", endpoint, code, attempt + 1, wait)
                else:
                    return code, payload
            self.retries += 1
            attempt += 1
            await self._sleep(wait)
