"""Sending queued broadcasts: claiming deliveries, pacing, retries, resuming and reporting to staff.

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
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from telegram import Bot, InlineKeyboardMarkup, LinkPreviewOptions, Message
from telegram.constants import ParseMode
from telegram.error import BadRequest, Forbidden, NetworkError, RetryAfter, TelegramError, TimedOut
from telegram.warnings import PTBDeprecationWarning

from bot.core import broadcast_claims as claims
from bot.core.broadcasts import (
    BLOCKED,
    DONE,
    FAILED,
    PENDING,
    SENDING,
    SENT,
    BroadcastInfo,
    counts_of,
    info_from_row,
)
from bot.core.settings import BroadcastSettings
from bot.core.staff_texts import final_report, progress_text
from bot.core.state import Database
from bot.core.state_dialect import POSTGRESQL
from bot.edge.errors import not_modified

log = logging.getLogger(__name__)

# A chat answering 429 this many times in a row for one broadcast is given up on.
MAX_THROTTLED = 10
# The longest back-off between two tries after a timeout or a network error (seconds).
MAX_BACKOFF = 60.0


@dataclass(frozen=True)
class _Due:
    broadcast_id: int
    chat_id: int


@dataclass(frozen=True)
class _Outcome:
    state: str
    message_id: int | None = None
    error: str = ""
    retry_at: float | None = None
    throttled: bool = False
    blocked: bool = False


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
        self._report_wake = asyncio.Event()
        self._stopping = asyncio.Event()
        self._inflight: set[asyncio.Task[None]] = set()
        self._texts: dict[int, str] = {}
        self._markups: dict[int, InlineKeyboardMarkup | None] = {}
        self._progress_shown: dict[int, str] = {}
        # Broadcasts whose staff chat refused the progress message: only the final report is tried.
        self._no_progress: set[int] = set()
        # The reporter task and a finishing run() both report; one at a time, so no report goes twice.
        self._report_lock = asyncio.Lock()
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
        self._report_wake.set()

    async def run(self, until_idle: bool = False) -> None:
        """Resume what a previous run left, then send until stopped (or, with until_idle, done)."""
        interrupted = await asyncio.to_thread(self.recover)
        if interrupted:
            log.warning("%d deliveries were in flight when the bot stopped; marked 'unknown'", interrupted)
        reporter = asyncio.create_task(self._report_loop(), name="broadcast-reporter")
        beating = asyncio.create_task(self._heartbeat_loop(), name="broadcast-heartbeat")
        try:
            while not self._stopping.is_set():
                try:
                    if await self._dispatch_one():
                        continue
                    if await asyncio.to_thread(self._finish_completed):
                        self._report_wake.set()
                    if until_idle and not self._inflight and await asyncio.to_thread(self._idle):
                        await self._report()
                        if await asyncio.to_thread(self._idle):
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
            if await asyncio.to_thread(self._finish_completed) or until_idle:
                with contextlib.suppress(Exception):
                    await self._report()

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
        return claims.recover_orphans(self.db, self.worker_id, others_alive=self._shared)

    @property
    def _shared(self) -> bool:
        """Whether other workers may be sending from the same database."""
        return self.db.dialect == POSTGRESQL

    async def _heartbeat_loop(self) -> None:
        while True:
            await asyncio.sleep(claims.HEARTBEAT_EVERY)
            try:
                await asyncio.to_thread(claims.heartbeat, self.db, self.worker_id, self.started_at)
                if self._shared:
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

    def _next_due_at(self) -> float | None:
        row = self.db.query("SELECT MIN(next_at) FROM deliveries WHERE state = ?", (PENDING,))[0]
        return None if row[0] is None else float(row[0])

    def _claim_next(self) -> _Due | None:
        """Claim the next due delivery (committed before any byte goes to Telegram)."""
        claimed = claims.claim_next(self.db, self.worker_id, self.settings.per_chat_interval)
        if claimed is None:
            return None
        self._texts[claimed.broadcast_id] = claimed.text
        if claimed.broadcast_id not in self._markups:
            self._markups[claimed.broadcast_id] = self._keyboard(claimed.markup)
        return _Due(claimed.broadcast_id, claimed.chat_id)

    def _record(self, due: _Due, outcome: _Outcome) -> None:
        now = time.time()
        key = (due.broadcast_id, due.chat_id, SENDING)
        with self.db.transaction() as conn:
            if outcome.state == PENDING:
                row = conn.execute(
                    "SELECT attempts, throttled FROM deliveries WHERE broadcast_id = ? AND chat_id = ?", key[:2]
                ).fetchone()
                attempts, throttled = (int(row[0]), int(row[1])) if row else (0, 0)
                if outcome.throttled:
                    # Telegram said when to come back: that is not a failed attempt.
                    attempts, throttled = attempts - 1, throttled + 1
                    give_up = throttled > MAX_THROTTLED
                else:
                    give_up = attempts >= self.settings.max_attempts
                if give_up:
                    outcome = _Outcome(FAILED, error=f"gave up after {attempts} tries: {outcome.error}")
                else:
                    conn.execute(
                        "UPDATE deliveries SET state = ?, attempts = ?, throttled = ?, next_at = ?, error = ?, "
                        "updated_at = ? WHERE broadcast_id = ? AND chat_id = ? AND state = ?",
                        (PENDING, attempts, throttled, outcome.retry_at or now, outcome.error, now, *key),
                    )
                    return
            conn.execute(
                "UPDATE deliveries SET state = ?, message_id = ?, error = ?, updated_at = ? "
                "WHERE broadcast_id = ? AND chat_id = ? AND state = ?",
                (outcome.state, outcome.message_id, outcome.error or None, now, *key),
            )
            if outcome.blocked:
                conn.execute(
                    "UPDATE subscribers SET active = 0, blocked_at = ?, updated_at = ? WHERE chat_id = ?",
                    (now, now, due.chat_id),
                )

    def _finish_completed(self) -> list[int]:
        """Mark broadcasts with nothing left to send as done; returns their ids."""
        now = time.time()
        finished = []
        with self.db.transaction() as conn:
            rows = conn.execute(
                "SELECT id FROM broadcasts b WHERE state != ? AND NOT EXISTS (SELECT 1 FROM deliveries d "
                "WHERE d.broadcast_id = b.id AND d.state IN (?, ?))",
                (DONE, PENDING, SENDING),
            ).fetchall()
            for row in rows:
                conn.execute(
                    "UPDATE broadcasts SET state = ?, finished_at = ?, started_at = COALESCE(started_at, ?) "
                    "WHERE id = ?",
                    (DONE, now, now, row[0]),
                )
                finished.append(int(row[0]))
        for broadcast_id in finished:
            log.info("broadcast %s finished: %s", broadcast_id, counts_of(self.db, broadcast_id))
        return finished

    def _idle(self) -> bool:
        row = self.db.query(
            "SELECT COUNT(*) FROM broadcasts WHERE state != ? OR (report_chat_id IS NOT NULL AND reported_at IS NULL)",
            (DONE,),
        )[0]
        return int(row[0]) == 0

    def _reportable(self) -> list[BroadcastInfo]:
        rows = self.db.query(
            "SELECT * FROM broadcasts WHERE report_chat_id IS NOT NULL AND reported_at IS NULL ORDER BY id"
        )
        return [info_from_row(self.db, r) for r in rows]

    def _set_progress_message(self, broadcast_id: int, message_id: int) -> None:
        self.db.execute("UPDATE broadcasts SET progress_message_id = ? WHERE id = ?", (message_id, broadcast_id))

    def _set_reported(self, broadcast_id: int) -> None:
        self.db.execute("UPDATE broadcasts SET reported_at = ? WHERE id = ?", (time.time(), broadcast_id))

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
            await asyncio.to_thread(self._record, due, outcome)
        except Exception:  # the row stays 'sending' and is reported as 'unknown' after a restart
            log.exception("could not record the delivery to chat %s", due.chat_id)
        finally:
            self._slots.release()
            self._wake.set()

    async def _send(self, due: _Due) -> _Outcome:
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
            return _Outcome(PENDING, error=f"429 retry after {wait:g}s", retry_at=time.time() + wait, throttled=True)
        except Forbidden as exc:
            return _Outcome(BLOCKED, error=str(exc), blocked=True)
        except BadRequest as exc:
            # Permanent (chat not found, text refused...): trying again would give the same answer.
            return _Outcome(FAILED, error=str(exc))
        except (TimedOut, NetworkError) as exc:
            attempts = await asyncio.to_thread(self._attempts, due)
            delay = min(MAX_BACKOFF, self.backoff * 2 ** max(0, attempts - 1))
            return _Outcome(PENDING, error=f"{type(exc).__name__}: {exc}", retry_at=time.time() + delay)
        except TelegramError as exc:
            return _Outcome(FAILED, error=f"{type(exc).__name__}: {exc}")
        except Exception as exc:
            # Not an answer from Telegram (e.g. the HTTP client was closed under us): the request
            # most likely never left, so it is retried like a network error, within max_attempts.
            log.warning("sending to chat %s failed locally: %r", due.chat_id, exc)
            return _Outcome(PENDING, error=f"{type(exc).__name__}: {exc}", retry_at=time.time() + self.backoff)
        return _Outcome(SENT, message_id=message.message_id)

    def _attempts(self, due: _Due) -> int:
        rows = self.db.query(
            "SELECT attempts FROM deliveries WHERE broadcast_id = ? AND chat_id = ?", (due.broadcast_id, due.chat_id)
        )
        return int(rows[0][0]) if rows else 0

    async def _sleep_until_due(self) -> None:
        # Cleared before looking, so a delivery finishing meanwhile still wakes us.
        self._wake.clear()
        next_at = await asyncio.to_thread(self._next_due_at)
        delay = self.poll_interval if next_at is None else min(self.poll_interval, max(0.0, next_at - time.time()))
        if delay <= 0 and not self._inflight:
            return
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._wake.wait(), timeout=max(delay, 0.01))

    # --- telling staff ----------------------------------------------------------------

    async def _report_loop(self) -> None:
        while True:
            try:
                await self._report()
            except Exception:  # a failed edit must not stop the broadcasts
                log.exception("could not update broadcast progress")
            self._report_wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._report_wake.wait(), timeout=self.settings.progress_every)

    async def _report(self) -> None:
        """Create, edit and finish the progress messages of broadcasts that have a staff chat."""
        async with self._report_lock:
            await self._report_unlocked()

    async def _report_unlocked(self) -> None:
        if self._shared and not await asyncio.to_thread(claims.is_reporter, self.db, self.worker_id):
            return  # another live worker keeps staff informed
        for info in await asyncio.to_thread(self._reportable):
            chat = info.report_chat_id
            assert chat is not None
            if info.state == DONE:
                await self._finish_report(info, chat)
                continue
            text = progress_text(info, self.settings.messages_per_second)
            if info.id in self._no_progress:
                continue
            if info.progress_message_id is None:
                message = await self._report_call(self.bot.send_message, chat_id=chat, text=text)
                if isinstance(message, Message):
                    await asyncio.to_thread(self._set_progress_message, info.id, message.message_id)
                    self._progress_shown[info.id] = text
                elif message is False:
                    self._no_progress.add(info.id)
            elif self._progress_shown.get(info.id) != text:
                await self._report_call(
                    self.bot.edit_message_text, chat_id=chat, message_id=info.progress_message_id, text=text
                )
                self._progress_shown[info.id] = text

    async def _finish_report(self, info: BroadcastInfo, chat: int) -> None:
        report = final_report(info)
        if info.progress_message_id is not None:
            await self._report_call(
                self.bot.edit_message_text,
                chat_id=chat,
                message_id=info.progress_message_id,
                text=report.splitlines()[0] + "（报告见下一条消息）",
            )
        sent = await self._report_call(self.bot.send_message, chat_id=chat, text=report)
        if sent is not None:  # sent, or refused for good: either way do not try again
            await asyncio.to_thread(self._set_reported, info.id)
            self._progress_shown.pop(info.id, None)

    async def _report_call(self, method: Callable[..., Any], **kwargs: Any) -> Any:
        """A message to staff, paced with the broadcast; None on a passing failure, False on a lasting one."""
        await self._wait_for_slot()
        try:
            return await method(**kwargs)
        except BadRequest as exc:
            if not_modified(exc):
                return True
            log.warning("staff message refused: %s", exc)
            return False
        except Forbidden as exc:
            log.warning("staff chat %s unreachable: %s", kwargs.get("chat_id"), exc)
            return False
        except TelegramError as exc:
            log.warning("staff message failed, will retry: %s", exc)
            return None
