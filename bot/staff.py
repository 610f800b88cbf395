"""The staff and admin side of the bot: publishing an uploaded issue (preview, street and month
buttons, ✏️ 修改 of a summary line, Publish/Cancel), broadcasts (/broadcasts, the sender's start
and stop), /staff, /reindex and /stats.

Staff handlers live in handler group 0, after the resident commands. The resident catch-alls in
group 1 stay silent for any update one of these handlers matches (`handlers._claimed_earlier`),
so the document filter matches staff only: a resident's file still gets the resident's answer.
Everyone else using a staff or admin command gets the same plain refusal, and is logged.
"""

from __future__ import annotations

import asyncio
import contextlib
import datetime as dtm
import functools
import html
import logging
import re
import secrets
import time
from collections.abc import Callable, Coroutine
from pathlib import Path
from typing import Any

from telegram import Bot, ForceReply, InlineKeyboardButton, InlineKeyboardMarkup, Message, Update
from telegram.constants import ParseMode
from telegram.error import BadRequest, TelegramError
from telegram.ext import Application, CallbackQueryHandler, CommandHandler, ContextTypes, MessageHandler, filters
from telegram.request import HTTPXRequest

from bot import publishing, summary_edits, upload_checks
from bot.broadcast import AlreadyBroadcast, BroadcastSender, broadcast_line, recent_broadcasts
from bot.issue_facts import MONTH_RE, looks_like_street, parse_month, resolve_street
from bot.roles import RoleChangeError, Roles
from bot.services import SERVICES_KEY, BotServices, services_of
from bot.stats import SHANGHAI, Stats, format_stats, gather
from bot.upload_store import Upload, UploadStore
from index.corpus import load_corpus
from index.maintenance import ReindexStatus
from index.publish import MAX_ISSUE_BYTES, MAX_PDF_BYTES, PublishError, issue_text, parse_text
from index.search import SearchEngine, street_matches

log = logging.getLogger(__name__)

STAFF_GROUP = 0
REFUSAL = "抱歉，这个命令不可用。"
CALLBACK_PREFIX = "stf:"
# ✏️ 修改 buttons under a preview: their own prefix, so their handler needs no routing through press_button.
EDIT_PREFIX = "sed:"
# Telegram allows 100 buttons; an issue with more articles than this has only its first lines editable.
MAX_EDIT_BUTTONS = 40
EXTRA_ROLES = "staff.roles"
EXTRA_SENDER = "staff.sender"
EXTRA_UPLOADS = "staff.uploads"
EXTRA_PUBLISH_LOCK = "staff.publish_lock"
EXTRA_TASKS = "staff.tasks"
EXTRA_SENDER_REQUEST = "staff.sender_request"
EXTRA_EDITS = "staff.summary_edits"
# Broadcast messages in flight at once: enough for 25/s at Telegram's usual round trip.
SENDER_CONCURRENCY = 8
# A preview nobody pressed a button on for this long is forgotten.
UPLOAD_TTL = 24 * 3600
MAX_STREET_BUTTONS = 24
MAX_SKIPPED_LISTED = 20
RECENT_BROADCASTS = 10
STAGE_NAMES = {"starting": "准备中", "waiting": "等待", "segmenting": "分词", "done": "完成", "failed": "失败"}

_LABEL_RE = re.compile(r"(街道|月份|月|street|month)\s*[:：=]", re.IGNORECASE)
_SPLIT_RE = re.compile(r"[\s,，、;；/|]+")

Handler = Callable[[Update, ContextTypes.DEFAULT_TYPE], Coroutine[Any, Any, None]]


# --- shared state ---------------------------------------------------------------------


def _services(context: ContextTypes.DEFAULT_TYPE) -> BotServices:
    return services_of(context.bot_data)


def roles_of(services: BotServices) -> Roles:
    """The process's role checker (made on first use)."""
    roles = services.extras.get(EXTRA_ROLES)
    if not isinstance(roles, Roles):
        roles = services.extras[EXTRA_ROLES] = Roles(services.settings.roles, services.db)
    return roles


def _uploads(services: BotServices) -> UploadStore:
    """The open uploads, in the state database: any worker can take the conversation's next step."""
    store = services.extras.get(EXTRA_UPLOADS)
    if not isinstance(store, UploadStore):
        store = services.extras[EXTRA_UPLOADS] = UploadStore(services.db)
    return store


async def _load_upload(services: BotServices, token: str) -> Upload | None:
    """The upload as the last step (on any worker) left it, with its draft prepared again if needed."""
    upload = await asyncio.to_thread(_uploads(services).get, token)
    if upload is None or upload.draft is not None or not upload.previewed:
        return upload
    # Previewed on another worker (or before a restart): the same inputs make the same draft
    # (or, if the corpus changed meanwhile, the question or refusal that is now due).
    await _next_step(services, upload)
    return upload


def _publish_lock(services: BotServices) -> asyncio.Lock:
    lock: asyncio.Lock = services.extras.setdefault(EXTRA_PUBLISH_LOCK, asyncio.Lock())
    return lock


def _tasks(services: BotServices) -> set[asyncio.Task[None]]:
    tasks: set[asyncio.Task[None]] = services.extras.setdefault(EXTRA_TASKS, set())
    return tasks


def _edits(services: BotServices) -> summary_edits.SummaryEdits:
    edits = services.extras.get(EXTRA_EDITS)
    if not isinstance(edits, summary_edits.SummaryEdits):
        edits = services.extras[EXTRA_EDITS] = summary_edits.SummaryEdits(services.db, UPLOAD_TTL)
    return edits


def _sender(services: BotServices) -> BroadcastSender | None:
    sender = services.extras.get(EXTRA_SENDER)
    return sender if isinstance(sender, BroadcastSender) else None


# --- refusing -------------------------------------------------------------------------


async def refuse(update: Update, what: str) -> None:
    """Say no without saying why, and log who asked."""
    user = update.effective_user
    log.warning("refused %s to user %s", what, user.id if user else "unknown")
    if update.callback_query is not None:
        await update.callback_query.answer(REFUSAL, show_alert=True)
    elif update.effective_message is not None:
        await update.effective_message.reply_text(REFUSAL)


def _guarded(admin: bool, what: str) -> Callable[[Handler], Handler]:
    """Run the handler for staff (or admins only), refuse everyone else."""

    def wrap(handler: Handler) -> Handler:
        @functools.wraps(handler)
        async def guarded(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
            user = update.effective_user
            roles = roles_of(_services(context))
            uid = user.id if user else None
            allowed = await asyncio.to_thread(roles.is_admin if admin else roles.is_staff, uid)
            if not allowed:
                await refuse(update, what)
                return
            await handler(update, context)

        return guarded

    return wrap


# --- captions, streets and months -----------------------------------------------------


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


def _describe_skipped(paths: list[tuple[str, str]], corpus_dir: Path) -> list[str]:
    lines = []
    for path, reason in paths[:MAX_SKIPPED_LISTED]:
        shown = path[len(str(corpus_dir)) + 1 :] if path.startswith(str(corpus_dir)) else Path(path).name
        lines.append(f"• {shown}：{reason}")
    if len(paths) > MAX_SKIPPED_LISTED:
        lines.append(f"……还有 {len(paths) - MAX_SKIPPED_LISTED} 个")
    return lines


# --- the publish conversation ---------------------------------------------------------


def _button(text: str, *parts: str) -> InlineKeyboardButton:
    return InlineKeyboardButton(text, callback_data=CALLBACK_PREFIX + ":".join(parts))


def _street_keyboard(upload: Upload) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    for number, street in enumerate(upload.street_choices[:MAX_STREET_BUTTONS]):
        if number % 2 == 0:
            rows.append([])
        rows[-1].append(_button(street, "st", upload.token, str(number)))
    rows.append([_button("✖️ 取消", "no", upload.token)])
    return InlineKeyboardMarkup(rows)


def _month_keyboard(upload: Upload, first: list[upload_checks.Choice] | None = None) -> InlineKeyboardMarkup:
    # The months the issue names come first; the clock's latest months only fill up the rest.
    months = upload_checks.month_choices(upload.checks, recent_months(time.time()))
    rows = [[_button(text, action, upload.token) for text, action, _ in first or []]]
    rows += [[_button(publishing.month_label(m), "mo", upload.token, m) for m in months[i : i + 2]] for i in (0, 2)]
    rows.append([_button("✖️ 取消", "no", upload.token)])
    return InlineKeyboardMarkup([row for row in rows if row])


def _choice_keyboard(upload: Upload, choices: list[upload_checks.Choice]) -> InlineKeyboardMarkup:
    rows = [[_button(text, action, upload.token, *([arg] if arg else []))] for text, action, arg in choices]
    rows.append([_button("✖️ 取消", "no", upload.token)])
    return InlineKeyboardMarkup(rows)


def _new_street_keyboard(upload: Upload) -> InlineKeyboardMarkup:
    assert upload.street is not None
    keyboard = _street_keyboard(upload)
    confirm = [_button(*upload_checks.new_street_button(upload.street)[:2], upload.token)]
    return InlineKeyboardMarkup([confirm, *keyboard.inline_keyboard])


def _checks_question(services: BotServices, upload: Upload) -> tuple[str, InlineKeyboardMarkup] | None:
    """The next question about an unknown street, a far-off month or a second issue of a month."""
    assert upload.street is not None and upload.month is not None
    engine = services.holder.engine
    checks = upload.checks
    future = upload_checks.future_question(checks, upload.month, upload_checks.shanghai_today())
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


async def _next_step(services: BotServices, upload: Upload) -> tuple[str, InlineKeyboardMarkup | None]:
    """What to ask or show next: the street, the month, or the preview (HTML text and buttons)."""
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
            await asyncio.to_thread(_uploads(services).take, upload.token)
            return f"《{name}》是哪个街道的？请在文件说明里写上街道名（例如“天山路街道 2020-06”）后重新发送。", None
        return (
            f"《{name}》是哪个街道的报纸？\n不在下面的话，请在文件说明里写上街道名后重新发送。",
            _street_keyboard(upload),
        )
    if upload.month is None:
        note = upload_checks.month_note(upload.checks)
        return f"{note}《{name}》（{html.escape(upload.street)}）是哪个月的？", _month_keyboard(upload)
    question = _checks_question(services, upload)
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
        await asyncio.to_thread(_uploads(services).take, upload.token)
        return f"❌ 《{name}》不能发布：{html.escape(str(exc))}\n没有做任何改动。", None
    upload.draft = draft
    if upload_checks.is_correction(upload.checks):
        # A correction is not broadcast (only an optional notice): its lines are not edited.
        recipients = await asyncio.to_thread(publishing.recipients_for, services.db, upload.street)
        note = upload_checks.correction_preview_note(upload.checks)
        text = note + publishing.preview_text(draft, upload.file_name, len(recipients), correction=True)
        return text, _choice_keyboard(upload, upload_checks.CORRECTION_BUTTONS)
    await _apply_stored_edits(services, draft)
    return await _preview(services, upload)


def _too_big(size: int, limit: int = MAX_ISSUE_BYTES) -> str:
    return f"文件太大（{size // 1024} KB），上限 {limit // 1024} KB。"


@_guarded(admin=False, what="document upload")
async def receive_document(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """A staff member sent an issue file: check it, then ask for street/month or show the preview."""
    message = update.effective_message
    user = update.effective_user
    assert message is not None and message.document is not None and user is not None
    services = _services(context)
    document = message.document
    file_name = document.file_name or "upload"
    # Refuse before downloading: a wrong kind or size is known from the message alone.
    if not file_name.lower().endswith((".txt", ".pdf")):
        await message.reply_text(
            f"❌ 《{file_name}》不能发布：只接受 .txt 纯文本文件或带文字的 .pdf 文件。\n没有做任何改动。"
        )
        return
    limit = MAX_PDF_BYTES if file_name.lower().endswith(".pdf") else MAX_ISSUE_BYTES
    if document.file_size is not None and document.file_size > limit:
        await message.reply_text(f"❌ 《{file_name}》不能发布：{_too_big(document.file_size, limit)}\n没有做任何改动。")
        return
    telegram_file = await document.get_file()
    data = bytes(await telegram_file.download_as_bytearray())
    try:
        # Read once (a PDF's extraction is the slow part); the preview parses this text again.
        text = await asyncio.to_thread(issue_text, data, file_name)
        await asyncio.to_thread(parse_text, text, file_name, "")
        same = await asyncio.to_thread(publishing.duplicate_of, services.holder.corpus_dir, text)
        if same is not None:
            raise PublishError(publishing.duplicate_reason(services.holder.corpus_dir, same))
    except PublishError as exc:
        await message.reply_text(f"❌ 《{file_name}》不能发布：{exc}\n没有做任何改动。")
        return
    uploads = _uploads(services)
    await asyncio.to_thread(uploads.expire, UPLOAD_TTL)
    engine = services.holder.engine
    newspapers = {i.newspaper: i.street for i in engine.issues if i.newspaper and i.street}
    street, choices, month = parse_caption(message.caption or "", engine.streets(), newspapers)
    upload = Upload(secrets.token_hex(4), message.chat_id, user.id, file_name, data, street, month)
    upload.street_choices = choices
    upload.checks = upload_checks.read_upload(text, file_name, message.caption or "")
    if street is not None:
        upload_checks.street_changed(upload.checks, new=street not in engine.streets())
        _fill_from_street(upload, engine)
    await asyncio.to_thread(uploads.add, upload)
    text, keyboard = await _next_step(services, upload)
    await asyncio.to_thread(uploads.save, upload)
    await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)
    log.info("user %s uploaded %s (%d bytes)", user.id, file_name, len(data))


async def _edit(update: Update, text: str, keyboard: InlineKeyboardMarkup | None = None) -> None:
    query = update.callback_query
    assert query is not None
    try:
        await query.edit_message_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)
    except BadRequest as exc:
        if "not modified" not in str(exc).lower():
            raise


@_guarded(admin=False, what="staff button")
async def press_button(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """Street, month, Publish or Cancel pressed under an upload."""
    query = update.callback_query
    assert query is not None
    services = _services(context)
    action, _, rest = (query.data or "")[len(CALLBACK_PREFIX) :].partition(":")
    token, _, argument = rest.partition(":")
    upload = await _load_upload(services, token)
    if upload is None:
        await query.answer()
        await _edit(update, "这个预览已过期，请重新发送文件。")
        return
    if action == "no":
        await asyncio.to_thread(_uploads(services).take, token)
        if upload.draft is not None:
            await asyncio.to_thread(_edits(services).discard, _draft_key(upload.draft))
        await query.answer("已取消")
        await _edit(update, f"已取消：《{html.escape(upload.file_name)}》没有发布，什么都没有改动。")
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
    text, keyboard = await _next_step(services, upload)
    await asyncio.to_thread(_uploads(services).save, upload)
    await _edit(update, text, keyboard)


async def publish_upload(update: Update, context: ContextTypes.DEFAULT_TYPE, upload: Upload) -> None:
    """Publish a previewed upload: corpus and index first (residents find it at once), then the broadcast."""
    query = update.callback_query
    assert query is not None
    services = _services(context)
    holder = services.holder
    if upload.draft is None:
        await query.answer()
        return
    if holder.status.running:
        await query.answer("索引正在重建，请等重建完成后再点发布。", show_alert=True)
        return
    lock = _publish_lock(services)
    if lock.locked():
        await query.answer("正在发布另一期，请稍候再点。", show_alert=True)
        return
    # Taken out first so a second press (or another staff member) cannot publish it twice.
    if not await asyncio.to_thread(_uploads(services).take, upload.token):
        await query.answer()
        return
    await asyncio.to_thread(_edits(services).close, _draft_key(upload.draft))
    await query.answer("正在发布…")
    draft = upload.draft
    title = html.escape(publishing.issue_title(draft.issue))
    await _edit(update, f"⏳ 正在发布 {title}…")
    if upload_checks.is_correction(upload.checks):
        async with lock:
            await _publish_correction(update, services, upload, draft)
        return
    # The corrections on record are what the preview showed, whichever worker took them.
    await _apply_stored_edits(services, draft)
    async with lock:
        try:
            another = upload.checks.kind == upload_checks.ANOTHER
            await asyncio.to_thread(publishing.publish, holder, draft, another)
        except (PublishError, ValueError, OSError) as exc:
            log.exception("publishing %s failed", draft.issue.id)
            await _edit(update, f"❌ 发布失败：{html.escape(str(exc))}\n居民看到的内容没有变化。")
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
    await _edit(update, "\n".join(lines))
    sender = _sender(services)
    if sender is not None:
        sender.wake()


# --- correcting summary lines before Publish ------------------------------------------

EDIT_CANCEL_WORDS = ("取消", "不改", "算了")


def _draft_key(draft: publishing.Draft) -> str:
    return summary_edits.draft_key(draft.issue, draft.text)


async def _apply_stored_edits(services: BotServices, draft: publishing.Draft) -> None:
    """Lines corrected for this same upload before (e.g. before a restart) replace the generated ones."""
    edits = await asyncio.to_thread(_edits(services).edits, _draft_key(draft))
    draft.lines = summary_edits.apply(draft.lines, edits)


def _preview_keyboard(upload: Upload) -> InlineKeyboardMarkup:
    """✏️ 修改 under each line, then Publish and Cancel."""
    assert upload.draft is not None
    rows = [
        [
            InlineKeyboardButton(
                f"✏️ 修改 {n + 1}. {_short(article.title)}", callback_data=f"{EDIT_PREFIX}{upload.token}:{n}"
            )
        ]
        for n, (article, _) in enumerate(upload.draft.lines[:MAX_EDIT_BUTTONS])
    ]
    rows.append([_button("✅ 发布", "ok", upload.token), _button("✖️ 取消", "no", upload.token)])
    return InlineKeyboardMarkup(rows)


def _short(title: str, size: int = 14) -> str:
    return title if len(title) <= size else title[: size - 1] + "…"


async def _preview(services: BotServices, upload: Upload) -> tuple[str, InlineKeyboardMarkup]:
    """The preview of a prepared upload (HTML) and its buttons."""
    draft = upload.draft
    assert draft is not None and upload.street is not None
    recipients = await asyncio.to_thread(publishing.recipients_for, services.db, upload.street)
    edits = await asyncio.to_thread(_edits(services).edits, _draft_key(draft))
    text = publishing.preview_text(draft, upload.file_name, len(recipients))
    if edits:
        text += f"\n✏️ 已修改 {len(edits)} 篇的摘要。"
    text += "\n要改哪篇的摘要，点它的“✏️ 修改”。"
    return text, _preview_keyboard(upload)


@_guarded(admin=False, what="summary edit button")
async def press_edit(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """✏️ 修改 pressed under a preview: ask for the article's corrected line."""
    query = update.callback_query
    user = update.effective_user
    assert query is not None and user is not None
    services = _services(context)
    token, _, number = (query.data or "")[len(EDIT_PREFIX) :].partition(":")
    upload = await _load_upload(services, token)
    if upload is None or upload.draft is None or query.message is None:
        await query.answer()
        await _edit(update, "这个预览已过期，请重新发送文件。")
        return
    lines = upload.draft.lines
    if not number.isdigit() or int(number) >= len(lines):
        await query.answer()
        return
    article, line = lines[int(number)]
    prompt = summary_edits.Prompt(
        chat_id=query.message.chat.id,
        user_id=user.id,
        draft_key=_draft_key(upload.draft),
        number=int(number) + 1,
        headline=article.title,
        token=token,
        message_id=query.message.message_id,
        asked_at=time.time(),
    )
    await asyncio.to_thread(_edits(services).ask, prompt)
    await query.answer()
    await context.bot.send_message(
        prompt.chat_id,
        f"✏️ 请发送第 {prompt.number} 篇《{html.escape(article.title)}》的新摘要："
        f"一句话，不超过 {summary_edits.MAX_CHARS} 个字。\n"
        f"现在是：{html.escape(line)}\n"
        "不想改了，发送“取消”。",
        parse_mode=ParseMode.HTML,
        reply_markup=ForceReply(input_field_placeholder="新的摘要"),
    )


def _edit_problem_text(prompt: summary_edits.Prompt, line: str, problem: str) -> str:
    if problem == summary_edits.EMPTY:
        why = "摘要不能是空的。"
    else:
        why = f"这句摘要有 {len(line)} 个字，超过了 {summary_edits.MAX_CHARS} 个字的上限。"
    return (
        f"❌ {why}第 {prompt.number} 篇《{prompt.headline}》的摘要没有改，预览也没有变。\n"
        f"请重新发送（不超过 {summary_edits.MAX_CHARS} 个字），或发送“取消”。"
    )


@_guarded(admin=False, what="summary line")
async def receive_line(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """The staff member's corrected line: check it, keep it, and show it in the preview."""
    message = update.effective_message
    user = update.effective_user
    assert message is not None and message.text is not None and user is not None
    services = _services(context)
    edits = _edits(services)
    prompt = edits.asking(message.chat_id, user.id)
    if prompt is None:
        return
    if message.text.strip().lower() in EDIT_CANCEL_WORDS:
        await asyncio.to_thread(edits.answered, prompt.chat_id, prompt.user_id)
        await message.reply_text(f"好的，第 {prompt.number} 篇《{prompt.headline}》的摘要没有改。")
        return
    line, problem = summary_edits.check_line(message.text)
    if problem is not None:
        await message.reply_text(_edit_problem_text(prompt, line, problem))
        return
    await asyncio.to_thread(edits.save, prompt.draft_key, prompt.number, line, user.id)
    await asyncio.to_thread(edits.answered, prompt.chat_id, prompt.user_id)
    upload = await _load_upload(services, prompt.token)
    if upload is None or upload.draft is None or _draft_key(upload.draft) != prompt.draft_key:
        await message.reply_text(
            f"✅ 已记下第 {prompt.number} 篇《{prompt.headline}》的新摘要。\n"
            "原来的预览已经不在了（机器人重启过或已超过 24 小时）：请重新发送这个文件，新的预览会用改好的摘要。"
        )
        return
    await _apply_stored_edits(services, upload.draft)
    await asyncio.to_thread(_uploads(services).save, upload)  # other workers' copies are now old
    text, keyboard = await _preview(services, upload)
    updated = True
    if prompt.message_id is not None:
        try:
            await context.bot.edit_message_text(
                text,
                chat_id=prompt.chat_id,
                message_id=prompt.message_id,
                parse_mode=ParseMode.HTML,
                reply_markup=keyboard,
            )
        except BadRequest as exc:
            updated = "not modified" in str(exc).lower()
            if not updated:
                log.warning("could not update the preview: %s", exc)
    if not updated or prompt.message_id is None:
        await message.reply_text(text, parse_mode=ParseMode.HTML, reply_markup=keyboard)
    await message.reply_text(
        f"✅ 第 {prompt.number} 篇《{prompt.headline}》的摘要改为：\n{line}\n"
        + ("预览已更新" if updated else "新的预览在上一条消息")
        + "，确认无误后点“✅ 发布”。订阅者收到的就是预览里的内容。"
    )


class _AwaitingLine(filters.MessageFilter):
    """Matches the text a staff member sends after pressing ✏️ 修改 (until they answer or cancel)."""

    def __init__(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        super().__init__(name="AwaitingSummaryLine")
        self.application = application

    def filter(self, message: Message) -> bool:
        services = self.application.bot_data.get(SERVICES_KEY)
        if not isinstance(services, BotServices) or message.from_user is None:
            return False
        return _edits(services).asking(message.chat_id, message.from_user.id) is not None


async def _publish_correction(update: Update, services: BotServices, upload: Upload, draft: publishing.Draft) -> None:
    """Replace the corrected issue in the corpus and the index; no broadcast, unless staff asked
    for the short correction notice."""
    old = upload.checks.replaces
    assert old is not None
    title = html.escape(publishing.issue_title(draft.issue))
    try:
        await asyncio.to_thread(publishing.publish_correction, services.holder, draft, old.file)
    except (PublishError, ValueError, OSError) as exc:
        log.exception("correcting %s with %s failed", old.id, draft.issue.id)
        await _edit(update, f"❌ 更正失败：{html.escape(str(exc))}\n居民看到的内容没有变化。")
        return
    lines = [
        f"✅ 已更正：{title}（{len(draft.articles)} 篇文章），替换了 {html.escape(old.file)}。",
        "居民现在搜到的是更正后的内容。",
    ]
    queued = 0
    if upload.checks.notify:
        try:
            broadcast_id, queued = await asyncio.to_thread(
                publishing.queue_correction_notice,
                services.db,
                draft.issue,
                draft.articles,
                upload.user_id,
                upload.chat_id,
            )
        except AlreadyBroadcast:
            broadcast_id = 0
        if queued:
            lines.append(f"更正通知（广播 #{broadcast_id}）将推送给 {queued:,} 位订阅者，进度见下一条消息。")
        else:
            lines.append("目前没有这个街道的订阅者，不发送更正通知。")
    else:
        lines.append("没有再次推送给订阅者。")
    log.info("user %s corrected %s with %s; notice to %d chats", upload.user_id, old.id, draft.issue.id, queued)
    await _edit(update, "\n".join(lines))
    sender = _sender(services)
    if queued and sender is not None:
        sender.wake()


# --- commands -------------------------------------------------------------------------


STAFF_USAGE = "用法：/staff list · /staff add 用户ID · /staff remove 用户ID"


@_guarded(admin=True, what="/staff")
async def manage_staff(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/staff list | add ID | remove ID (admins)."""
    message = update.effective_message
    user = update.effective_user
    assert message is not None and user is not None
    roles = roles_of(_services(context))
    args = context.args or []
    verb = args[0].lower() if args else "list"
    if verb == "list" and len(args) <= 1:
        await message.reply_text(await asyncio.to_thread(_staff_list, roles))
        return
    if verb not in ("add", "remove") or len(args) != 2 or not args[1].lstrip("-").isdigit():
        await message.reply_text(STAFF_USAGE)
        return
    target = int(args[1])
    try:
        if verb == "add":
            changed = await asyncio.to_thread(roles.add_staff, target, user.id)
            reply = f"已把 {target} 加为工作人员。" if changed else f"{target} 已经是工作人员。"
        else:
            changed = await asyncio.to_thread(roles.remove_staff, target, user.id)
            reply = f"已移除工作人员 {target}。" if changed else f"{target} 不是工作人员。"
            if changed and target in roles.config_staff:
                reply += "\n注意：config.yaml 仍列出此人；已在机器人里停用，请也从 config.yaml 删除。"
    except RoleChangeError as exc:
        reply = str(exc)
    await message.reply_text(reply)


def _staff_list(roles: Roles) -> str:
    members = roles.members()
    admins = [str(m.user_id) for m in members if m.admin]
    where = {"config": "config.yaml", "bot": "管理员添加"}
    staff = [f"{m.user_id}（{where.get(m.source, m.source)}）" for m in members if not m.admin]
    return "\n".join(
        [
            "👥 工作人员",
            "管理员：" + ("、".join(admins) or "无"),
            "工作人员：" + ("、".join(staff) or "无"),
            *(
                ["config.yaml 仍列出、但已在机器人里停用：" + "、".join(str(u) for u in removed)]
                if (removed := roles.removed_config_staff())
                else []
            ),
            STAFF_USAGE,
        ]
    )


@_guarded(admin=False, what="/broadcasts")
async def list_broadcasts(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/broadcasts: the recent broadcasts and how they stand."""
    message = update.effective_message
    assert message is not None
    infos = await asyncio.to_thread(recent_broadcasts, _services(context).db, RECENT_BROADCASTS)
    if not infos:
        await message.reply_text("还没有广播。")
        return
    lines = ["📣 最近的广播"] + [broadcast_line(info, SHANGHAI) for info in infos]
    await message.reply_text("\n".join(lines))


@_guarded(admin=False, what="/stats")
async def show_stats(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/stats: corpus, subscribers, questions and the most frequent unanswered ones."""
    message = update.effective_message
    assert message is not None
    services = _services(context)
    stats = await asyncio.to_thread(_gather_leased, services)
    await message.reply_text(format_stats(stats))


def _gather_leased(services: BotServices) -> Stats:
    with services.holder.lease() as engine:
        return gather(engine, services.db)


def reindex_status_text(status: ReindexStatus) -> str:
    """The progress of a running rebuild."""
    stage = STAGE_NAMES.get(status.stage, status.stage)
    elapsed = time.time() - status.started if status.started else 0.0
    line = f"🔄 正在重建索引（已 {elapsed:.0f} 秒）：{stage}"
    if status.stage == "waiting":
        line += f"另一项写入完成（{status.waiting_for or '其他进程'}）"
    if status.total:
        line += f" {status.done:,} / {status.total:,}（{status.done * 100 // status.total}%）"
    return line + "\n居民的提问照常用旧索引回答。"


@_guarded(admin=True, what="/reindex")
async def reindex(update: Update, context: ContextTypes.DEFAULT_TYPE) -> None:
    """/reindex: rebuild the index in the background, reporting progress (admins)."""
    message = update.effective_message
    assert message is not None
    services = _services(context)
    holder = services.holder
    if holder.status.running:
        await message.reply_text("已经在重建了。\n" + reindex_status_text(holder.status))
        return
    if _publish_lock(services).locked():
        await message.reply_text("正在发布新一期，请稍后再重建索引。")
        return
    progress = await message.reply_text("🔄 开始重建索引…\n居民的提问照常用旧索引回答。")
    loop = asyncio.get_running_loop()
    finished = asyncio.Event()

    def done(_status: ReindexStatus) -> None:
        # Called in the rebuild's thread: hand the news to the event loop.
        loop.call_soon_threadsafe(finished.set)

    if not holder.start_reindex(on_done=done):
        await progress.edit_text("已经在重建了。\n" + reindex_status_text(holder.status))
        return
    log.info("user %s started a reindex", update.effective_user.id if update.effective_user else "-")
    task = asyncio.create_task(_follow_reindex(services, progress, finished), name="reindex-progress")
    _tasks(services).add(task)
    task.add_done_callback(_tasks(services).discard)


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
        lines = [f"❌ 索引重建失败：{status.error}", "仍在使用原来的索引，居民的提问不受影响。"]
        try:
            skipped = (await asyncio.to_thread(load_corpus, holder.corpus_dir)).skipped
        except Exception:  # the listing is a courtesy; the failure itself is already reported
            skipped = []
        pairs = [(s.path, s.reason) for s in skipped]
    else:
        lines = [f"✅ 索引重建完成：{status.articles:,} 篇文章，用时 {seconds:.0f} 秒，已换用新索引。"]
        pairs = [(s.path, s.reason) for s in status.skipped]
    if pairs:
        lines.append(f"跳过了 {len(pairs)} 个文件：")
        lines.extend(_describe_skipped(pairs, holder.corpus_dir))
    await _edit_quietly(progress, "\n".join(lines))


async def _edit_quietly(message: Message, text: str) -> None:
    try:
        await message.edit_text(text)
    except TelegramError as exc:
        if "not modified" not in str(exc).lower():
            log.warning("could not update the reindex message: %s", exc)


# --- wiring ---------------------------------------------------------------------------


class _StaffOnly(filters.MessageFilter):
    """Matches messages from staff, so residents' files fall through to the resident handlers."""

    def __init__(self, application: Application[Any, Any, Any, Any, Any, Any]) -> None:
        super().__init__(name="StaffOnly")
        self.application = application

    def filter(self, message: Message) -> bool:
        services = self.application.bot_data.get(SERVICES_KEY)
        if not isinstance(services, BotServices) or message.from_user is None:
            return False
        return roles_of(services).is_staff(message.from_user.id)


def register(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Add the staff and admin handlers to the application (handler group 0)."""
    uploads = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE & filters.Document.ALL
    application.add_handler(MessageHandler(uploads & _StaffOnly(application), receive_document), STAFF_GROUP)
    application.add_handler(CallbackQueryHandler(press_button, pattern=f"^{CALLBACK_PREFIX}"), STAFF_GROUP)
    register_summary_edits(application)
    for name, callback in (
        ("staff", manage_staff),
        ("broadcasts", list_broadcasts),
        ("reindex", reindex),
        ("stats", show_stats),
    ):
        application.add_handler(CommandHandler(name, callback, filters=filters.UpdateType.MESSAGE), STAFF_GROUP)


def register_summary_edits(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """The ✏️ 修改 buttons and the corrected line that follows (handler group 0)."""
    application.add_handler(CallbackQueryHandler(press_edit, pattern=f"^{EDIT_PREFIX}"), STAFF_GROUP)
    awaiting = filters.ChatType.PRIVATE & filters.UpdateType.MESSAGE & filters.TEXT & ~filters.COMMAND
    application.add_handler(MessageHandler(awaiting & _AwaitingLine(application), receive_line), STAFF_GROUP)


async def on_startup(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Start the broadcast sender, resuming unfinished broadcasts."""
    services = services_of(application.bot_data)
    roles_of(services)
    _edits(services)
    tg = services.settings.telegram
    # The sender has its own Bot and connection pool: application.shutdown() closes the
    # application's client, and a broadcast must be able to finish the sends in flight first.
    request = HTTPXRequest(connection_pool_size=SENDER_CONCURRENCY + 4)
    bot = Bot(application.bot.token, base_url=tg.base_url, base_file_url=tg.base_file_url, request=request)
    await request.initialize()
    sender = BroadcastSender(services.db, bot, services.settings.broadcast, concurrency=SENDER_CONCURRENCY)
    services.extras[EXTRA_SENDER] = sender
    services.extras[EXTRA_SENDER_REQUEST] = request
    sender.start()


async def on_shutdown(application: Application[Any, Any, Any, Any, Any, Any]) -> None:
    """Stop the broadcast sender (letting messages in flight finish) and the progress tasks."""
    services = services_of(application.bot_data)
    sender = _sender(services)
    if sender is not None:
        await sender.stop()
    request = services.extras.pop(EXTRA_SENDER_REQUEST, None)
    if isinstance(request, HTTPXRequest):
        await request.shutdown()
    for task in list(_tasks(services)):
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
