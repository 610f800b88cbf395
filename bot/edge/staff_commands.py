"""Staff and admin commands: /staff (who is staff), /broadcasts, /stats and /reindex with its
progress message.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from pathlib import Path

from telegram import Message, Update
from telegram.error import TelegramError

from bot.core import staff_texts
from bot.core.broadcasts import recent_broadcasts
from bot.core.dates import SHANGHAI
from bot.core.roles import RoleChangeError, Roles
from bot.core.services import BotServices
from bot.core.staff_texts import broadcast_line
from bot.core.stats import Stats, chart_caption, format_stats, gather
from bot.core.stats_chart import render_chart
from bot.edge.context import BotContext
from bot.edge.errors import not_modified
from bot.edge.staff_state import (
    MAX_SKIPPED_LISTED,
    RECENT_BROADCASTS,
    guarded,
    plain,
    roles_of,
)
from index.corpus import load_corpus
from index.maintenance import ReindexStatus

log = logging.getLogger(__name__)


@guarded(admin=True, what="/staff")
async def manage_staff(update: Update, context: BotContext) -> None:
    """/staff list | add ID | remove ID (admins)."""
    message = update.effective_message
    user = update.effective_user
    assert message is not None and user is not None
    roles = await roles_of(context.bot_data)
    args = context.args or []
    verb = args[0].lower() if args else "list"
    if verb == "list" and len(args) <= 1:
        await message.reply_text(plain(await asyncio.to_thread(_staff_list, roles)))
        return
    if verb not in ("add", "remove") or len(args) != 2 or not args[1].lstrip("-").isdigit():
        await message.reply_text(plain(staff_texts.STAFF_USAGE))
        return
    target = int(args[1])
    try:
        if verb == "add":
            changed = await asyncio.to_thread(roles.add_staff, target, user.id)
            reply = staff_texts.staff_added(target, changed)
        else:
            changed = await asyncio.to_thread(roles.remove_staff, target, user.id)
            reply = staff_texts.staff_removed(target, changed)
            if changed and target in roles.config_staff:
                reply += staff_texts.STILL_IN_CONFIG
    except RoleChangeError as exc:
        reply = str(exc)
    await message.reply_text(plain(reply))


def _staff_list(roles: Roles) -> str:
    members = roles.members()
    admins = [str(m.user_id) for m in members if m.admin]
    where = {"config": "config.yaml", "bot": staff_texts.ADDED_BY_ADMIN}
    staff = [staff_texts.staff_member(m.user_id, where.get(m.source, m.source)) for m in members if not m.admin]
    return staff_texts.staff_list(admins, staff, roles.removed_config_staff())


@guarded(admin=False, what="/broadcasts")
async def list_broadcasts(update: Update, context: BotContext) -> None:
    """/broadcasts: the recent broadcasts and how they stand."""
    message = update.effective_message
    assert message is not None
    infos = await asyncio.to_thread(recent_broadcasts, context.services.db, RECENT_BROADCASTS)
    if not infos:
        await message.reply_text(plain(staff_texts.NO_BROADCASTS))
        return
    lines = [staff_texts.RECENT_BROADCASTS_HEADER] + [broadcast_line(info, SHANGHAI) for info in infos]
    await message.reply_text(plain("\n".join(lines)))


@guarded(admin=False, what="/stats")
async def show_stats(update: Update, context: BotContext) -> None:
    """/stats: corpus, subscribers, questions and the most frequent unanswered ones, then a chart
    of the last 30 days. Read afresh each time (an index another process published included)."""
    message = update.effective_message
    assert message is not None
    stats = await asyncio.to_thread(_gather_fresh, context.services)
    await message.reply_text(plain(format_stats(stats)))
    try:
        chart = await asyncio.to_thread(render_chart, stats.daily)
    except Exception:  # the numbers are sent; a drawing failure must not turn into an error reply
        log.exception("could not draw the /stats chart")
        return
    await message.reply_photo(chart, caption=plain(chart_caption(stats)))


def _gather_fresh(services: BotServices) -> Stats:
    try:
        services.holder.reload_if_changed()
    except Exception:  # a damaged new index: the numbers of the loaded one are still right for residents
        log.exception("checking for a newer index before /stats failed")
    with services.holder.lease() as engine:
        return gather(engine, services.db)


def reindex_status_text(status: ReindexStatus) -> str:
    """The progress of a running rebuild."""
    stage = staff_texts.STAGE_NAMES.get(status.stage, status.stage)
    elapsed = time.time() - status.started if status.started else 0.0
    waiting_for = (status.waiting_for or "") if status.stage == "waiting" else None
    return staff_texts.reindex_progress(elapsed, stage, waiting_for, status.done, status.total)


@guarded(admin=True, what="/reindex")
async def reindex(update: Update, context: BotContext) -> None:
    """/reindex: rebuild the index in the background, reporting progress (admins)."""
    message = update.effective_message
    assert message is not None
    services = context.services
    holder = services.holder
    if holder.status.running:
        await message.reply_text(plain(staff_texts.ALREADY_REINDEXING + reindex_status_text(holder.status)))
        return
    if context.bot_data.publish_lock.locked():
        await message.reply_text(plain(staff_texts.PUBLISHING_NOW))
        return
    progress = await message.reply_text(plain(staff_texts.REINDEX_STARTED))
    loop = asyncio.get_running_loop()
    finished = asyncio.Event()

    def done(_status: ReindexStatus) -> None:
        # Called in the rebuild's thread: hand the news to the event loop.
        loop.call_soon_threadsafe(finished.set)

    if not holder.start_reindex(on_done=done):
        await progress.edit_text(plain(staff_texts.ALREADY_REINDEXING + reindex_status_text(holder.status)))
        return
    log.info("user %s started a reindex", update.effective_user.id if update.effective_user else "-")
    task = asyncio.create_task(_follow_reindex(services, progress, finished), name="reindex-progress")
    context.bot_data.tasks.add(task)
    task.add_done_callback(context.bot_data.tasks.discard)


async def _follow_reindex(services: BotServices, progress: Message, finished: asyncio.Event) -> None:
    """Edit the progress message until the rebuild ends, then say how it ended."""
    holder = services.holder
    shown = ""
    while not finished.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(finished.wait(), timeout=services.settings.broadcast.progress_every)
        if finished.is_set():
            break
        text = reindex_status_text(holder.status)
        if text != shown:
            await _edit_quietly(progress, text)
            shown = text
    status = holder.status
    seconds = max(0.0, status.finished - status.started)
    if status.error:
        reason = staff_texts.reindex_failure(status.failure, status.error)
        lines = [staff_texts.reindex_failed(reason), staff_texts.OLD_INDEX_KEPT]
        try:
            skipped = (await asyncio.to_thread(load_corpus, holder.corpus_dir)).skipped
        except Exception:  # the listing is a courtesy; the failure itself is already reported
            skipped = []
        pairs = [(s.path, s.reason) for s in skipped]
    else:
        if status.kept:
            lines = [staff_texts.reindex_unchanged(status.articles)]
        else:
            lines = [staff_texts.reindex_done(status.articles, seconds)]
        pairs = [(s.path, s.reason) for s in status.skipped]
    if pairs:
        lines.append(staff_texts.files_skipped(len(pairs)))
        lines.extend(describe_skipped(pairs, holder.corpus_dir))
    await _edit_quietly(progress, "\n".join(lines))


async def _edit_quietly(message: Message, text: str) -> None:
    try:
        await message.edit_text(plain(text))
    except TelegramError as exc:
        if not not_modified(exc):
            log.warning("could not update the reindex message: %s", exc)


def describe_skipped(paths: list[tuple[str, str]], corpus_dir: Path) -> list[str]:
    lines = []
    for path, reason in paths[:MAX_SKIPPED_LISTED]:
        shown = path[len(str(corpus_dir)) + 1 :] if path.startswith(str(corpus_dir)) else Path(path).name
        lines.append(staff_texts.skipped_file(shown, reason))
    if len(paths) > MAX_SKIPPED_LISTED:
        lines.append(staff_texts.more_skipped(len(paths) - MAX_SKIPPED_LISTED))
    return lines
