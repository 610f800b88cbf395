"""Sending queued broadcasts: claiming deliveries, pacing, retries and resuming.

What each delivery became is recorded by `bot.core.deliveries`; the staff who queued a
broadcast hear how it goes from `bot.edge.broadcast_reports`.

The queue and its states are `bot.core.broadcasts`; a delivery row moves through these states:

    pending ──claim──> sending ──> sent       (Telegram answered with the message)
                          │  ├───> blocked    (403: the subscriber is marked inactive)
                          │  ├───> failed     (permanent error, or retries used up)
                          │  └───> pending    (429: after its retry_after; timeout/network: back-off)
                          └─(crash)─> unknown (found in 'sending' at start-up; see below)
    pending ──> skipped                       (the subscriber left before their turn came)

Exactly once. A row is set to 'sending' and committed BEFORE the HTTP call and to its outcome
right after, so a crash can only ever leave the rows that were in flight in 'sending' (at most
`concurrency` of them). Telegram has no idempotency key, so for those rows nobody can know
whether the message arrived. We do not resend them: they become 'unknown' and are reported to
staff as "may have arrived". A crash almost always hits while a request is waiting for
Telegram's answer (the round trip is the long part; the gap between commit and the request
leaving is microseconds), when the message has in fact been delivered; resending would then
give those subscribers a second copy. So the sender errs towards at-most-once for the handful of
in-flight rows, and never skips or repeats anyone else. A clean stop waits for the requests in
flight, so only a real crash produces 'unknown' rows.

Pacing is our own (not PTB's AIORateLimiter, which in 22.8 pauses every request on one 429 and
may end the pause early): evenly spaced slots at `messages_per_second` overall, at least
`per_chat_interval` seconds between two messages to one chat, and a 429 delays only the request
that got it, by the `retry_after` Telegram gave.

Several workers (PostgreSQL) share one broadcast: the slots, the claims and the liveness that
decides which 'sending' rows a dead worker left behind are in the database
(`bot.core.broadcast_claims`), so the pace holds across all of them and a SIGKILLed worker
duplicates nothing.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import json
import logging
import time
import uuid
import warnings
from dataclasses import dataclass

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.warnings import PTBDeprecationWarning

from bot.core import broadcast_claims as claims
from bot.core import deliveries
from bot.core.broadcasts import (
    BLOCKED,
    FAILED,
    PENDING,
    SENT,
)
from bot.core.deliveries import Outcome
from bot.core.settings import BroadcastSettings
from bot.core.state import Database
from bot.edge.broadcast_reports import StaffReports

log = logging.getLogger(__name__)

# The longest back-off between two tries after a timeout or a network error (seconds).
MAX_BACKOFF = 60.0


@dataclass(frozen=True)
class _Due:
    broadcast_id: int
    chat_id: int


def _retry_after_seconds(exc: RetryAfter) -> float:
    with warnings.catch_warnings():
        # PTB 22 warns that retry_after will become a timedelta; both forms are handled here.
        warnings.simplefilter("ignore", PTBDeprecationWarning)
        value: int | dtm.timedelta = exc.retry_after
    return value.total_seconds() if isinstance(value, dtm.timedelta) else float(value)


# --- the sender -----------------------------------------------------------------------


class BroadcastSender:
    """Sends queued deliveries, resumes after restarts, and keeps staff informed.

    One sender per bot process (several processes may share a PostgreSQL state): `run()` (as a
    task) until `stop()`; `run(until_idle=True)` returns once every broadcast is finished and
    reported (for scripts and tests).
    """

    def __init__(
        self,
        db: Database,
        bot: Bot,
        settings: BroadcastSettings,
        *,
        concurrency: int = 8,
        send_timeout: float = 10.0,
        backoff: float = 1.0,
        poll_interval: float = 2.0,
    ) -> None:
        self.db = db
        self.bot = bot
        self.settings = settings
        self.concurrency = max(1, concurrency)
        self.send_timeout = send_timeout
        self.backoff = backoff
        self.poll_interval = poll_interval
        if settings.messages_per_second <= 0:
            raise ValueError("messages_per_second must be positive")
        # This process's name in `deliveries.claimed_by` and `workers`.
        self.worker_id = f"{uuid.uuid4().hex[:12]}"
        self.started_at = time.time()
        self._slots = asyncio.Semaphore(self.concurrency)
        self._wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()
        self._texts: dict[int, str] = {}
        self._markups: dict[int, InlineKeyboardMarkup | None] = {}
        self.reports = StaffReports(db, bot, settings, self._wait_for_slot, self.worker_id)
        self._task: asyncio.Task[None] | None = None

    # --- lifecycle --------------------------------------------------------------------

    def start(self) -> asyncio.Task[None]:
        """Run the sender as a task of the running loop."""
        if self._task is None or self._task.done():
            self._task = asyncio.create_task(self.run(), name="broadcast-sender")
        return self._task

    async def stop(self, grace: float | None = None) -> None:
        """Stop taking new deliveries and let the ones in flight finish (up to `grace` seconds)."""
        self._stopping.set()
        self._wake.set()
        if self._task is not None:
            try:
                await asyncio.wait_for(asyncio.shield(self._task), grace or self.send_timeout + 5)
            except TimeoutError:
                log.warning("broadcast sender did not stop in time; cancelling")
                self._task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await self._task
            except Exception:
                log.exception("broadcast sender failed while stopping")

    def wake(self) -> None:
        """Look for due deliveries and progress to report now (after queueing a broadcast)."""
        self._wake.set()
        self.reports.wake()

    async def run(self, until_idle: bool = False) -> None:
        """Resume what a previous run left, then send until stopped (or, with until_idle, done)."""
        interrupted = await asyncio.to_thread(self.recover)
        if interrupted:
            log.warning("%d deliveries were in flight when the bot stopped; marked 'unknown'", interrupted)
        reporter = asyncio.create_task(self.reports.loop(), name="broadcast-reporter")
        beating = asyncio.create_task(self._heartbeat_loop(), name="broadcast-heartbeat")
        try:
            while not self._stopping.is_set():
                try:
                    if await self._dispatch_one():
                        continue
                    if await asyncio.to_thread(deliveries.finish_completed, self.db):
                        self.reports.wake()
                    if until_idle and not self._inflight and await asyncio.to_thread(deliveries.idle, self.db):
                        await self.reports.report()
                        if await asyncio.to_thread(deliveries.idle, self.db):
                            break
                    await self._sleep_until_due()
                except Exception:  # e.g. the database busy for longer than its timeout: retry, never die
                    log.exception("broadcast sender hit an error; retrying in %.0fs", self.poll_interval)
                    await asyncio.sleep(self.poll_interval)
        finally:
            if self._inflight:
                await asyncio.gather(*self._inflight, return_exceptions=True)
            for task in (reporter, beating):
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            with contextlib.suppress(Exception):
                await asyncio.to_thread(claims.leave, self.db, self.worker_id)
            # One last look, so a broadcast finished by the last replies is reported now.
            if await asyncio.to_thread(deliveries.finish_completed, self.db) or until_idle:
                with contextlib.suppress(Exception):
                    await self.reports.report()

    # --- database (called in worker threads) ------------------------------------------

    def recover(self) -> int:
        """Pick up where a previous run stopped; returns how many deliveries it left in flight.

        Deliveries left in 'sending' by a crash become 'unknown' (see the module docstring). On
        SQLite this process is the only sender, so every claim but its own is an orphan; on
        PostgreSQL only those of workers whose heartbeat stopped (checked again every few
        seconds, see `_heartbeat_loop`). The pace carries over in the database: a bot restarted
        within a second does not add a fresh second's worth of messages.
        """
        claims.heartbeat(self.db, self.worker_id, self.started_at)
        return claims.recover_orphans(self.db, self.worker_id, others_alive=self.db.shared)

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(claims.HEARTBEAT_EVERY)
            try:
                await asyncio.to_thread(claims.heartbeat, self.db, self.worker_id, self.started_at)
                if self.db.shared:
                    orphans = await asyncio.to_thread(claims.recover_orphans, self.db, self.worker_id, True)
                    if orphans:
                        log.warning("%d deliveries of a stopped worker were in flight; marked 'unknown'", orphans)
                        self._wake.set()
            except Exception:  # the database away for a moment: beat again next time
                log.exception("broadcast heartbeat failed")

    def _keyboard(self, markup: str | None) -> InlineKeyboardMarkup | None:
        """A broadcast's stored keyboard; one that cannot be read is left off rather than failing the send."""
        if not markup:
            return None
        try:
            return InlineKeyboardMarkup.de_json(json.loads(markup), self.bot)
        except (ValueError, TypeError, KeyError) as exc:
            log.warning("broadcast keyboard unreadable, sending without it: %s", exc)
            return None

    def _claim_next(self) -> _Due | None:
        """Claim the next due delivery (committed before any byte goes to Telegram)."""
        claimed = claims.claim_next(self.db, self.worker_id, self.settings.per_chat_interval)
        if claimed is None:
            return None
        self._texts[claimed.broadcast_id] = claimed.text
        if claimed.broadcast_id not in self._markups:
            self._markups[claimed.broadcast_id] = self._keyboard(claimed.markup)
        return _Due(claimed.broadcast_id, claimed.chat_id)

    # --- sending ----------------------------------------------------------------------

    async def _dispatch_one(self) -> bool:
        """Start one due delivery; False when nothing is due."""
        await self._slots.acquire()
        try:
            await self._wait_for_slot()
            due = None if self._stopping.is_set() else await asyncio.to_thread(self._claim_next)
        except BaseException:
            self._slots.release()
            raise
        if due is None:
            self._slots.release()
            return False
        task = asyncio.create_task(self._deliver(due), name=f"deliver-{due.broadcast_id}-{due.chat_id}")
        self._inflight.add(task)
        task.add_done_callback(self._inflight.discard)
        return True

    async def _wait_for_slot(self) -> None:
        """Take the next send slot of the pace all workers share, and wait for it."""
        slot = await asyncio.to_thread(claims.reserve_slot, self.db, self.settings.messages_per_second)
        delay = slot - time.time()
        if delay > 0:
            await asyncio.sleep(delay)

    async def _deliver(self, due: _Due) -> None:
        try:
            outcome = await self._send(due)
            await asyncio.to_thread(
                deliveries.record, self.db, due.broadcast_id, due.chat_id, outcome, self.settings.max_attempts
            )
        except Exception:  # the row stays 'sending' and is reported as 'unknown' after a restart
            log.exception("could not record the delivery to chat %s", due.chat_id)
        finally:
            self._slots.release()
            self._wake.set()

    async def _send(self, due: _Due) -> Outcome:
        timeout = self.send_timeout
        try:
            # Named here, not left to Defaults: the sender takes any Bot (its own, a script's, a test's).
            message = await self.bot.send_message(
                chat_id=due.chat_id,
                text=self._texts[due.broadcast_id],
                parse_mode=ParseMode.HTML,
                reply_markup=self._markups.get(due.broadcast_id),
                link_preview_options=LinkPreviewOptions(is_disabled=True),
                # None leaves the parameter out: a free message, within the ~30/s limit.
                allow_paid_broadcast=True if self.settings.allow_paid_broadcast else None,
                read_timeout=timeout,
                write_timeout=timeout,
                connect_timeout=timeout,
                pool_timeout=timeout,
            )
        except RetryAfter as exc:
            wait = _retry_after_seconds(exc)
            log.info("429 for chat %s: retrying that message in %.0fs", due.chat_id, wait)
            return Outcome(PENDING, error=f"429 retry after {wait:g}s", retry_at=time.time() + wait, throttled=True)
        except Forbidden as exc:
            return Outcome(BLOCKED, error=str(exc), blocked=True)
        except BadRequest as exc:
            # Permanent (chat not found, text refused...): trying again would give the same answer.
            return Outcome(FAILED, error=str(exc))
        except (TimedOut, NetworkError) as exc:
            attempts = await asyncio.to_thread(deliveries.attempts, self.db, due.broadcast_id, due.chat_id)
            delay = min(MAX_BACKOFF, self.backoff * 2 ** max(0, attempts - 1))
            return Outcome(PENDING, error=f"{type(exc).__name__}: {exc}", retry_at=time.time() + delay)
        except TelegramError as exc:
            return Outcome(FAILED, error=f"{type(exc).__name__}: {exc}")
        except Exception as exc:
            # Not an answer from Telegram (e.g. the HTTP client was closed under us): the request
            # most likely never left, so it is retried like a network error, within max_attempts.
            log.warning("sending to chat %s failed locally: %r", due.chat_id, exc)
            return Outcome(PENDING, error=f"{type(exc).__name__}: {exc}", retry_at=time.time() + self.backoff)
        return Outcome(SENT, message_id=message.message_id)

    async def _sleep_until_due(self) -> None:
        # Cleared before looking, so a delivery finishing meanwhile still wakes us.
        self._wake.clear()
        next_at = await asyncio.to_thread(deliveries.next_due_at, self.db)
        delay = self.poll_interval if next_at is None else min(self.poll_interval, max(0.0, next_at - time.time()))
        if delay <= 0 and not self._inflight:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=max(delay, 0.01))
