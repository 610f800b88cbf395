"""Publishing an uploaded issue: the caption (street and month), the street, month and duplicate
questions as buttons, the preview, and Publish/Cancel, which queues the broadcast.
"""

from __future__ import annotations

import asyncio
import html
import logging
import secrets

from telegram import Update

from bot.core import publishing, staff_texts, upload_checks
from bot.core.broadcasts import AlreadyBroadcast
from bot.core.issue_facts import (
    CAPTION_LABEL_RE,
    CAPTION_SPLIT_RE,
    MONTH_RE,
    looks_like_street,
    parse_month,
    resolve_street,
)
from bot.core.upload_store import Upload
from bot.edge.context import BotContext
from bot.edge.staff_edits import publish_correction
from bot.edge.staff_state import (
    CALLBACK_PREFIX,
    UPLOAD_TTL,
    edit_pressed,
    edits_of,
    guarded,
    plain,
)
from bot.edge.staff_steps import apply_stored_edits, draft_key, fill_from_street, load_upload, next_step
from index.publish import MAX_ISSUE_BYTES, MAX_PDF_BYTES, PublishError, issue_text, parse_text

log = logging.getLogger(__name__)


def parse_caption(
    caption: str, known_streets: list[str], newspapers: dict[str, str] | None = None
) -> tuple[str | None, list[str], str | None]:
    """(street, street choices when ambiguous, month) from a document's caption.

    A word names a street when it matches a known street (or a known newspaper's street), or
    looks like a street name (ends in 街道, 镇...): the corpus may not have that street yet.
    """
    text = CAPTION_LABEL_RE.sub(" ", caption or "")
    month = parse_month(text)
    text = MONTH_RE.sub(" ", text)
    choices: list[str] = []
    for word in CAPTION_SPLIT_RE.split(text):
        word = word.strip()
        if len(word) < 2:
            continue
        found = resolve_street(word, known_streets, newspapers, allow_new=looks_like_street(word))
        if found.street is not None and (not found.new or not choices):
            return found.street, [], month
        choices = choices or found.choices
    return None, choices, month


# --- the publish conversation ---------------------------------------------------------


@guarded(admin=False, what="document upload")
async def receive_document(update: Update, context: BotContext) -> None:
    """A staff member sent an issue file: check it, then ask for street/month or show the preview."""
    message = update.effective_message
    user = update.effective_user
    assert message is not None and message.document is not None and user is not None
    services = context.services
    document = message.document
    file_name = document.file_name or "upload"
    # Refuse before downloading: a wrong kind or size is known from the message alone.
    if not file_name.lower().endswith((".txt", ".pdf")):
        await message.reply_text(plain(staff_texts.cannot_publish(file_name, staff_texts.ONLY_TXT_OR_PDF)))
        return
    limit = MAX_PDF_BYTES if file_name.lower().endswith(".pdf") else MAX_ISSUE_BYTES
    if document.file_size is not None and document.file_size > limit:
        await message.reply_text(
            plain(staff_texts.cannot_publish(file_name, staff_texts.file_too_large(document.file_size, limit)))
        )
        return
    telegram_file = await document.get_file()
    data = bytes(await telegram_file.download_as_bytearray())
    try:
        # Read once (a PDF's extraction is the slow part); the preview parses this text again.
        text = await asyncio.to_thread(issue_text, data, file_name)
        await asyncio.to_thread(parse_text, text, file_name, "")
        same = await asyncio.to_thread(publishing.duplicate_of, services.holder.corpus_dir, text)
        if same is not None:
            raise publishing.duplicate_of_issue(services.holder.corpus_dir, same)
    except PublishError as exc:
        await message.reply_text(plain(staff_texts.cannot_publish(file_name, staff_texts.publish_refusal(exc))))
        return
    uploads = context.bot_data.uploads
    await asyncio.to_thread(uploads.expire, UPLOAD_TTL)
    engine = services.holder.engine
    newspapers = {i.newspaper: i.street for i in engine.issues if i.newspaper and i.street}
    street, choices, month = parse_caption(message.caption or "", engine.streets(), newspapers)
    upload = Upload(secrets.token_hex(4), message.chat_id, user.id, file_name, data, street, month)
    upload.street_choices = choices
    upload.checks = upload_checks.read_upload(text, file_name, message.caption or "")
    if street is not None:
        upload_checks.street_changed(upload.checks, new=street not in engine.streets())
        fill_from_street(upload, engine)
    await asyncio.to_thread(uploads.add, upload)
    text, keyboard = await next_step(context.bot_data, upload)
    await asyncio.to_thread(uploads.save, upload)
    await message.reply_text(text, reply_markup=keyboard)
    log.info("user %s uploaded %s (%d bytes)", user.id, file_name, len(data))


@guarded(admin=False, what="staff button")
async def press_button(update: Update, context: BotContext) -> None:
    """Street, month, Publish or Cancel pressed under an upload."""
    query = update.callback_query
    assert query is not None
    services = context.services
    action, _, rest = (query.data or "")[len(CALLBACK_PREFIX) :].partition(":")
    token, _, argument = rest.partition(":")
    upload = await load_upload(context.bot_data, token)
    if upload is None:
        await query.answer()
        await edit_pressed(update, staff_texts.EXPIRED_PREVIEW)
        return
    if action == "no":
        await asyncio.to_thread(context.bot_data.uploads.take, token)
        if upload.draft is not None:
            await asyncio.to_thread(edits_of(context.bot_data).discard, draft_key(upload.draft))
        await query.answer(staff_texts.CANCELLED)
        await edit_pressed(update, staff_texts.cancelled(upload.file_name))
        return
    if action in ("ok", "okn"):
        upload.checks.notify = action == "okn"
        await publish_upload(update, context, upload)
        return
    if action == "st" and argument.isdigit() and int(argument) < len(upload.street_choices):
        upload.street = upload.street_choices[int(argument)]
        upload_checks.street_changed(upload.checks, new=False)
        fill_from_street(upload, services.holder.engine)
    elif action == "mo" and parse_month(argument) == argument:
        upload.month = argument
        upload_checks.month_changed(upload.checks)
    else:
        upload_checks.press(upload.checks, action)
    await query.answer()
    text, keyboard = await next_step(context.bot_data, upload)
    await asyncio.to_thread(context.bot_data.uploads.save, upload)
    await edit_pressed(update, text, keyboard)


async def publish_upload(update: Update, context: BotContext, upload: Upload) -> None:
    """Publish a previewed upload: corpus and index first (residents find it at once), then the broadcast."""
    query = update.callback_query
    assert query is not None
    services = context.services
    holder = services.holder
    if upload.draft is None:
        await query.answer()
        return
    if holder.status.running:
        await query.answer(staff_texts.REINDEX_RUNNING, show_alert=True)
        return
    lock = context.bot_data.publish_lock
    if lock.locked():
        await query.answer(staff_texts.ANOTHER_PUBLISH_RUNNING, show_alert=True)
        return
    # Taken out first so a second press (or another staff member) cannot publish it twice.
    if not await asyncio.to_thread(context.bot_data.uploads.take, upload.token):
        await query.answer()
        return
    await asyncio.to_thread(edits_of(context.bot_data).close, draft_key(upload.draft))
    await query.answer(staff_texts.PUBLISHING)
    draft = upload.draft
    title = html.escape(publishing.issue_title(draft.issue))
    await edit_pressed(update, staff_texts.publishing_now(title))
    if upload_checks.is_correction(upload.checks):
        async with lock:
            await publish_correction(update, context.bot_data, upload, draft)
        return
    # The corrections on record are what the preview showed, whichever worker took them.
    await apply_stored_edits(context.bot_data, draft)
    async with lock:
        try:
            another = upload.checks.kind == upload_checks.ANOTHER
            await asyncio.to_thread(publishing.publish, holder, draft, another)
        except (PublishError, ValueError, OSError) as exc:
            log.exception("publishing %s failed", draft.issue.id)
            reason = html.escape(staff_texts.failure_reason(exc))
            await edit_pressed(update, staff_texts.publish_failed(reason))
            return
        try:
            broadcast_id, queued = await asyncio.to_thread(
                publishing.queue_issue, services.db, draft.issue, draft.lines, upload.user_id, upload.chat_id
            )
        except AlreadyBroadcast:
            broadcast_id, queued = 0, 0
    log.info("user %s published %s; broadcast %s to %d chats", upload.user_id, draft.issue.id, broadcast_id, queued)
    lines = [staff_texts.published(title, len(draft.articles)), staff_texts.SEARCHABLE_NOW]
    if queued:
        lines.append(staff_texts.broadcast_queued(broadcast_id, queued))
    else:
        lines.append(staff_texts.NO_SUBSCRIBERS)
    await edit_pressed(update, "\n".join(lines))
    sender = context.bot_data.sender
    if sender is not None:
        sender.wake()
