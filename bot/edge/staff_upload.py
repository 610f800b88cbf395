"""Publishing an uploaded issue: the caption (street and month), the street, month and duplicate
questions as buttons, the preview, and Publish/Cancel, which queues the broadcast.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import html
import logging
import secrets
import time

from telegram import InlineKeyboardButton, InlineKeyboardMarkup, Update

from bot.core import publishing, staff_texts, upload_checks
from bot.core.broadcasts import AlreadyBroadcast
from bot.core.dates import SHANGHAI, month_label, shanghai_today
from bot.core.issue_facts import MONTH_RE, looks_like_street, parse_month, resolve_street
from bot.edge.context import BotContext, BotData, Upload
from bot.edge.staff_edits import apply_stored_edits, draft_key, preview, publish_correction
from bot.edge.staff_state import (
    _LABEL_RE,
    _SPLIT_RE,
    CALLBACK_PREFIX,
    MAX_STREET_BUTTONS,
    UPLOAD_TTL,
    button,
    edit_pressed,
    edits_of,
    guarded,
    plain,
)
from index.issue_catalog import street_matches
from index.publish import MAX_ISSUE_BYTES, MAX_PDF_BYTES, PublishError, issue_text, parse_text
from index.search import SearchEngine

log = logging.getLogger(__name__)


def parse_caption(
    caption: str, known_streets: list[str], newspapers: dict[str, str] | None = None
) -> tuple[str | None, list[str], str | None]:
    """(street, street choices when ambiguous, month) from a document's caption.

    A word names a street when it matches a known street (or a known newspaper's street), or
    looks like a street name (ends in 街道, 镇...): the corpus may not have that street yet.
    """
    text = _LABEL_RE.sub(" ", caption or "")
    month = parse_month(text)
    text = MONTH_RE.sub(" ", text)
    choices: list[str] = []
    for word in _SPLIT_RE.split(text):
        word = word.strip()
        if len(word) < 2:
            continue
        found = resolve_street(word, known_streets, newspapers, allow_new=looks_like_street(word))
        if found.street is not None and (not found.new or not choices):
            return found.street, [], month
        choices = choices or found.choices
    return None, choices, month


def recent_months(now: float, count: int = 4) -> list[str]:
    """This month and the ones before it, newest first (Shanghai time)."""
    local = dtm.datetime.fromtimestamp(now, SHANGHAI)
    year, month = local.year, local.month
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out


# --- the publish conversation ---------------------------------------------------------


def _street_keyboard(upload: Upload) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    for number, street in enumerate(upload.street_choices[:MAX_STREET_BUTTONS]):
        if number % 2 == 0:
            rows.append([])
        rows[-1].append(button(street, "st", upload.token, str(number)))
    rows.append([button("✖️ 取消", "no", upload.token)])
    return InlineKeyboardMarkup(rows)


def _month_keyboard(upload: Upload, first: list[upload_checks.Choice] | None = None) -> InlineKeyboardMarkup:
    # The months the issue names come first; the clock's latest months only fill up the rest.
    months = upload_checks.month_choices(upload.checks, recent_months(time.time()))
    rows = [[button(text, action, upload.token) for text, action, _ in first or []]]
    rows += [[button(month_label(m), "mo", upload.token, m) for m in months[i : i + 2]] for i in (0, 2)]
    rows.append([button("✖️ 取消", "no", upload.token)])
    return InlineKeyboardMarkup([row for row in rows if row])


def _choice_keyboard(upload: Upload, choices: list[upload_checks.Choice]) -> InlineKeyboardMarkup:
    rows = [[button(text, action, upload.token, *([arg] if arg else []))] for text, action, arg in choices]
    rows.append([button("✖️ 取消", "no", upload.token)])
    return InlineKeyboardMarkup(rows)


def _new_street_keyboard(upload: Upload) -> InlineKeyboardMarkup:
    assert upload.street is not None
    keyboard = _street_keyboard(upload)
    confirm = [button(*upload_checks.new_street_button(upload.street)[:2], upload.token)]
    return InlineKeyboardMarkup([confirm, *keyboard.inline_keyboard])


def _checks_question(data: BotData, upload: Upload) -> tuple[str, InlineKeyboardMarkup] | None:
    """The next question about an unknown street, a far-off month or a second issue of a month."""
    assert upload.street is not None and upload.month is not None
    engine = data.services.holder.engine
    checks = upload.checks
    future = upload_checks.future_question(checks, upload.month, shanghai_today())
    if future is not None:
        return future[0], _month_keyboard(upload, future[1])
    second = upload_checks.correction_question(checks, engine.issues, upload.street, upload.month, upload.file_name)
    if second is not None:
        return second[0], _choice_keyboard(upload, second[1])
    return None


def _fill_from_street(upload: Upload, engine: SearchEngine) -> None:
    """District and newspaper name as the street's latest issue gives them."""
    assert upload.street is not None
    previous = engine.latest_issue(upload.street)
    if previous is not None and street_matches(previous.street, upload.street):
        upload.district = upload.district or previous.district
        upload.newspaper = upload.newspaper or previous.newspaper


async def _next_step(data: BotData, upload: Upload) -> tuple[str, InlineKeyboardMarkup | None]:
    """What to ask or show next: the street, the month, or the preview (HTML text and buttons)."""
    services = data.services
    engine = services.holder.engine
    name = html.escape(upload.file_name)
    if upload.street is not None and upload.checks.street_new and not upload.checks.street_confirmed:
        upload.street_choices = engine.streets()
        asked = upload_checks.street_question(upload.checks, upload.street, upload.street_choices, upload.file_name)
        assert asked is not None
        return asked, _new_street_keyboard(upload)
    if upload.street is None:
        if not upload.street_choices:
            upload.street_choices = engine.streets()
        if not upload.street_choices:
            data.uploads.pop(upload.token, None)
            return f"《{name}》是哪个街道的？请在文件说明里写上街道名（例如“天山路街道 2020-06”）后重新发送。", None
        return (
            f"《{name}》是哪个街道的报纸？\n不在下面的话，请在文件说明里写上街道名后重新发送。",
            _street_keyboard(upload),
        )
    if upload.month is None:
        note = upload_checks.month_note(upload.checks)
        return f"{note}《{name}》（{html.escape(upload.street)}）是哪个月的？", _month_keyboard(upload)
    question = _checks_question(data, upload)
    if question is not None:
        return question
    try:
        draft = await asyncio.to_thread(
            publishing.prepare,
            engine,
            services.holder.corpus_dir,
            upload.data,
            upload.checks.text,
            upload.file_name,
            upload.street,
            upload.month,
            upload.district,
            upload.newspaper,
        )
    except PublishError as exc:
        data.uploads.pop(upload.token, None)
        return staff_texts.cannot_publish(name, html.escape(staff_texts.publish_refusal(exc))), None
    upload.draft = draft
    if upload_checks.is_correction(upload.checks):
        # A correction is not broadcast (only an optional notice): its lines are not edited.
        recipients = await asyncio.to_thread(publishing.recipients_for, services.db, upload.street)
        note = upload_checks.correction_preview_note(upload.checks)
        text = note + publishing.preview_text(draft, upload.file_name, len(recipients), correction=True)
        return text, _choice_keyboard(upload, upload_checks.CORRECTION_BUTTONS)
    await apply_stored_edits(data, draft)
    return await preview(data, upload)


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
    now = time.time()
    for token in [t for t, u in uploads.items() if now - u.created > UPLOAD_TTL]:
        del uploads[token]
    engine = services.holder.engine
    newspapers = {i.newspaper: i.street for i in engine.issues if i.newspaper and i.street}
    street, choices, month = parse_caption(message.caption or "", engine.streets(), newspapers)
    upload = Upload(secrets.token_hex(4), message.chat_id, user.id, file_name, data, street, month)
    upload.street_choices = choices
    upload.checks = upload_checks.read_upload(text, file_name, message.caption or "")
    if street is not None:
        upload_checks.street_changed(upload.checks, new=street not in engine.streets())
        _fill_from_street(upload, engine)
    uploads[upload.token] = upload
    text, keyboard = await _next_step(context.bot_data, upload)
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
    upload = context.bot_data.uploads.get(token)
    if upload is None:
        await query.answer()
        await edit_pressed(update, "这个预览已过期，请重新发送文件。")
        return
    if action == "no":
        context.bot_data.uploads.pop(token, None)
        if upload.draft is not None:
            await asyncio.to_thread(edits_of(context.bot_data).discard, draft_key(upload.draft))
        await query.answer("已取消")
        await edit_pressed(update, f"已取消：《{html.escape(upload.file_name)}》没有发布，什么都没有改动。")
        return
    if action in ("ok", "okn"):
        upload.checks.notify = action == "okn"
        await publish_upload(update, context, upload)
        return
    if action == "st" and argument.isdigit() and int(argument) < len(upload.street_choices):
        upload.street = upload.street_choices[int(argument)]
        upload_checks.street_changed(upload.checks, new=False)
        _fill_from_street(upload, services.holder.engine)
    elif action == "mo" and parse_month(argument) == argument:
        upload.month = argument
        upload_checks.month_changed(upload.checks)
    else:
        upload_checks.press(upload.checks, action)
    await query.answer()
    text, keyboard = await _next_step(context.bot_data, upload)
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
        await query.answer("索引正在重建，请等重建完成后再点发布。", show_alert=True)
        return
    lock = context.bot_data.publish_lock
    if lock.locked():
        await query.answer("正在发布另一期，请稍候再点。", show_alert=True)
        return
    # Taken out first so a second press (or another staff member) cannot publish it twice.
    if context.bot_data.uploads.pop(upload.token, None) is None:
        await query.answer()
        return
    await asyncio.to_thread(edits_of(context.bot_data).close, draft_key(upload.draft))
    await query.answer("正在发布…")
    draft = upload.draft
    title = html.escape(publishing.issue_title(draft.issue))
    await edit_pressed(update, f"⏳ 正在发布 {title}…")
    if upload_checks.is_correction(upload.checks):
        async with lock:
            await publish_correction(update, context.bot_data, upload, draft)
        return
    async with lock:
        try:
            another = upload.checks.kind == upload_checks.ANOTHER
            await asyncio.to_thread(publishing.publish, holder, draft, another)
        except (PublishError, ValueError, OSError) as exc:
            log.exception("publishing %s failed", draft.issue.id)
            reason = html.escape(staff_texts.failure_reason(exc))
            await edit_pressed(update, f"❌ 发布失败：{reason}\n居民看到的内容没有变化。")
            return
        try:
            broadcast_id, queued = await asyncio.to_thread(
                publishing.queue_issue, services.db, draft.issue, draft.lines, upload.user_id, upload.chat_id
            )
        except AlreadyBroadcast:
            broadcast_id, queued = 0, 0
    log.info("user %s published %s; broadcast %s to %d chats", upload.user_id, draft.issue.id, broadcast_id, queued)
    lines = [f"✅ 已发布：{title}（{len(draft.articles)} 篇文章）", "居民现在就能搜到本期内容。"]
    if queued:
        lines.append(f"广播 #{broadcast_id} 将推送给 {queued:,} 位订阅者，进度见下一条消息。")
    else:
        lines.append("目前没有这个街道的订阅者，不发送广播。")
    await edit_pressed(update, "\n".join(lines))
    sender = context.bot_data.sender
    if sender is not None:
        sender.wake()
