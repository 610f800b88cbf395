"""Telling staff how their broadcast goes: one progress message, edited as it runs, and the
final report when it is over, sent to the chat that queued it.

Staff messages take send slots of the same pace as the broadcast itself. With several workers
only one (the longest running live worker, `broadcast_claims.is_reporter`) reports, so no report
goes twice.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable
from typing import Any

from telegram import Bot, Message
from telegram.error import BadRequest, Forbidden, TelegramError

from bot.core import broadcast_claims as claims
from bot.core import deliveries, staff_texts
from bot.core.broadcasts import DONE, BroadcastInfo
from bot.core.settings import BroadcastSettings
from bot.core.staff_texts import final_report, progress_text
from bot.core.state import Database
from bot.edge.errors import not_modified

log = logging.getLogger(__name__)


class StaffReports:
    """The progress messages and final reports of broadcasts that have a staff chat."""

    def __init__(
        self,
        db: Database,
        bot: Bot,
        settings: BroadcastSettings,
        wait_for_slot: Callable[[], Awaitable[None]],
        worker_id: str,
    ) -> None:
        self.db = db
        self.bot = bot
        self.settings = settings
        self.worker_id = worker_id
        self._wait_for_slot = wait_for_slot
        self._wake = asyncio.Event()
        self._progress_shown: dict[int, str] = {}
        # Broadcasts whose staff chat refused the progress message: only the final report is tried.
        self._no_progress: set[int] = set()
        # The reporter task and a finishing run() both report; one at a time, so no report goes twice.
        self._lock = asyncio.Lock()

    def wake(self) -> None:
        """Report now rather than at the next `progress_every`."""
        self._wake.set()

    async def loop(self) -> None:
        """Report now and then (every `progress_every` seconds, or when woken) until cancelled."""
        while True:
            try:
                await self.report()
            except Exception:  # a failed edit must not stop the broadcasts
                log.exception("could not update broadcast progress")
            self._wake.clear()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=self.settings.progress_every)

    async def report(self) -> None:
        """Create, edit and finish the progress messages of broadcasts that have a staff chat."""
        async with self._lock:
            await self._report_unlocked()

    async def _report_unlocked(self) -> None:
        # Other workers share the database: only one of them reports.
        if self.db.shared and not await asyncio.to_thread(claims.is_reporter, self.db, self.worker_id):
            return  # another live worker keeps staff informed
        for info in await asyncio.to_thread(deliveries.reportable, self.db):
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
                    await asyncio.to_thread(deliveries.set_progress_message, self.db, info.id, message.message_id)
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
                text=report.splitlines()[0] + staff_texts.REPORT_FOLLOWS,
            )
        sent = await self._report_call(self.bot.send_message, chat_id=chat, text=report)
        if sent is not None:  # sent, or refused for good: either way do not try again
            await asyncio.to_thread(deliveries.set_reported, self.db, info.id)
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
