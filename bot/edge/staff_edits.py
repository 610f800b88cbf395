"""✏️ 修改 of a summary line before Publish: the button, the corrected line staff send next,
the preview edited in place, and publishing a correction of an issue already out.
"""

from __future__ import annotations

import asyncio
import html
import logging
import time

from telegram import ForceReply, Update
from telegram.error import BadRequest

from bot.core import publishing, staff_texts, summary_edits
from bot.core.broadcasts import AlreadyBroadcast
from bot.core.upload_store import Upload
from bot.edge.context import BotContext, BotData
from bot.edge.errors import not_modified
from bot.edge.staff_state import (
    EDIT_PREFIX,
    edit_pressed,
    edits_of,
    guarded,
    plain,
)
from bot.edge.staff_steps import apply_stored_edits, draft_key, load_upload, preview
from index.publish import PublishError

log = logging.getLogger(__name__)


@guarded(admin=False, what="summary edit button")
async def press_edit(update: Update, context: BotContext) -> None:
    """✏️ 修改 pressed under a preview: ask for the article's corrected line."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    token, _, number = (query.data or "")[len(EDIT_PREFIX) :].partition(":")
    upload = await load_upload(context.bot_data, token)
    if upload is None or upload.draft is None or query.message is None:
        await query.answer()
        await edit_pressed(update, staff_texts.EXPIRED_PREVIEW)
        return
    lines = upload.draft.lines
    if not number.isdigit() or int(number) >= len(lines):
        await query.answer()
        return
    article, line = lines[int(number)]
    prompt = summary_edits.Prompt(
        chat_id=query.message.chat.id,
        user_id=user.id,
        draft_key=draft_key(upload.draft),
        number=int(number) + 1,
        headline=article.title,
        token=token,
        message_id=query.message.message_id,
        asked_at=time.time(),
    )
    await asyncio.to_thread(edits_of(context.bot_data).ask, prompt)
    await query.answer()
    await context.bot.send_message(
        prompt.chat_id,
        staff_texts.ask_for_line(prompt.number, article.title, line, summary_edits.MAX_CHARS),
        reply_markup=ForceReply(input_field_placeholder=staff_texts.LINE_PLACEHOLDER),
    )


def _edit_problem_text(prompt: summary_edits.Prompt, line: str, problem: str) -> str:
    if problem == summary_edits.EMPTY:
        why = staff_texts.EMPTY_LINE
    else:
        why = staff_texts.line_too_long(len(line), summary_edits.MAX_CHARS)
    return staff_texts.line_refused(why, prompt.number, prompt.headline, summary_edits.MAX_CHARS)


@guarded(admin=False, what="summary line")
async def receive_line(update: Update, context: BotContext) -> None:
    """The staff member's corrected line: check it, keep it, and show it in the preview."""
    message = update.effective_message
    user = update.effective_user
    assert message is not None and message.text is not None and user is not None
    edits = edits_of(context.bot_data)
    prompt = edits.asking(message.chat_id, user.id)
    if prompt is None:
        return
    if message.text.strip().lower() in staff_texts.CANCEL_WORDS:
        await asyncio.to_thread(edits.answered, prompt.chat_id, prompt.user_id)
        await message.reply_text(plain(staff_texts.line_kept(prompt.number, prompt.headline)))
        return
    line, problem = summary_edits.check_line(message.text)
    if problem is not None:
        await message.reply_text(plain(_edit_problem_text(prompt, line, problem)))
        return
    await asyncio.to_thread(edits.save, prompt.draft_key, prompt.number, line, user.id)
    await asyncio.to_thread(edits.answered, prompt.chat_id, prompt.user_id)
    upload = await load_upload(context.bot_data, prompt.token)
    if upload is None or upload.draft is None or draft_key(upload.draft) != prompt.draft_key:
        await message.reply_text(plain(staff_texts.line_saved_preview_gone(prompt.number, prompt.headline)))
        return
    await apply_stored_edits(context.bot_data, upload.draft)
    await asyncio.to_thread(context.bot_data.uploads.save, upload)  # other workers' copies are now old
    text, keyboard = await preview(context.bot_data, upload)
    updated = True
    if prompt.message_id is not None:
        try:
            await context.bot.edit_message_text(
                text,
                chat_id=prompt.chat_id,
                message_id=prompt.message_id,
                reply_markup=keyboard,
            )
        except BadRequest as exc:
            updated = not_modified(exc)
            if not updated:
                log.warning("could not update the preview: %s", exc)
    if not updated or prompt.message_id is None:
        await message.reply_text(text, reply_markup=keyboard)
    await message.reply_text(plain(staff_texts.line_changed(prompt.number, prompt.headline, line, updated)))


async def publish_correction(update: Update, data: BotData, upload: Upload, draft: publishing.Draft) -> None:
    """Replace the corrected issue in the corpus and the index; no broadcast, unless staff asked
    for the short correction notice."""
    old = upload.checks.replaces
    assert old is not None
    title = html.escape(publishing.issue_title(draft.issue))
    try:
        await asyncio.to_thread(publishing.publish_correction, data.services.holder, draft, old.file)
    except (PublishError, ValueError, OSError) as exc:
        log.exception("correcting %s with %s failed", old.id, draft.issue.id)
        reason = html.escape(staff_texts.failure_reason(exc))
        await edit_pressed(update, staff_texts.correction_failed(reason))
        return
    lines = [
        staff_texts.corrected(title, len(draft.articles), old.file),
        staff_texts.CORRECTED_SEARCHABLE,
    ]
    queued = 0
    if upload.checks.notify:
        try:
            broadcast_id, queued = await asyncio.to_thread(
                publishing.queue_correction_notice,
                data.services.db,
                draft.issue,
                draft.articles,
                upload.user_id,
                upload.chat_id,
            )
        except AlreadyBroadcast:
            broadcast_id = 0
        if queued:
            lines.append(staff_texts.correction_notice_queued(broadcast_id, queued))
        else:
            lines.append(staff_texts.NO_SUBSCRIBERS_FOR_NOTICE)
    else:
        lines.append(staff_texts.NOT_PUSHED_AGAIN)
    log.info("user %s corrected %s with %s; notice to %d chats", upload.user_id, old.id, draft.issue.id, queued)
    await edit_pressed(update, "\n".join(lines))
    sender = data.sender
    if queued and sender is not None:
        sender.wake()
