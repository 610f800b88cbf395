"""The upload conversation's next step: the street, month and duplicate questions with their
buttons, the preview with its ✏️ buttons, and an upload loaded as the last step (on any worker)
left it.
"""

from __future__ import annotations

import asyncio
import datetime as dtm
import html
import logging
import time

from telegram import InlineKeyboardButton, InlineKeyboardMarkup

from bot.core import publishing, staff_texts, summary_edits, upload_checks
from bot.core.dates import SHANGHAI, month_label, shanghai_today
from bot.core.upload_store import Upload
from bot.edge.context import BotData
from bot.edge.staff_state import (
    EDIT_PREFIX,
    MAX_EDIT_BUTTONS,
    MAX_STREET_BUTTONS,
    button,
    edits_of,
)
from index.issue_catalog import street_matches
from index.publish import PublishError
from index.search import SearchEngine

log = logging.getLogger(__name__)


def recent_months(now: float, count: int = 4) -> list[str]:
    """This month and the ones before it, newest first (Shanghai time)."""
    local = dtm.datetime.fromtimestamp(now, SHANGHAI)
    year, month = local.year, local.month
    out = []
    for _ in range(count):
        out.append(f"{year:04d}-{month:02d}")
        year, month = (year, month - 1) if month > 1 else (year - 1, 12)
    return out


def _street_keyboard(upload: Upload) -> InlineKeyboardMarkup:
    rows: list[list[InlineKeyboardButton]] = []
    for number, street in enumerate(upload.street_choices[:MAX_STREET_BUTTONS]):
        if number % 2 == 0:
            rows.append([])
        rows[-1].append(button(street, "st", upload.token, str(number)))
    rows.append([button(staff_texts.CANCEL_BUTTON, "no", upload.token)])
    return InlineKeyboardMarkup(rows)


def _month_keyboard(upload: Upload, first: list[upload_checks.Choice] | None = None) -> InlineKeyboardMarkup:
    # The months the issue names come first; the clock's latest months only fill up the rest.
    months = upload_checks.month_choices(upload.checks, recent_months(time.time()))
    rows = [[button(text, action, upload.token) for text, action, _ in first or []]]
    rows += [[button(month_label(m), "mo", upload.token, m) for m in months[i : i + 2]] for i in (0, 2)]
    rows.append([button(staff_texts.CANCEL_BUTTON, "no", upload.token)])
    return InlineKeyboardMarkup([row for row in rows if row])


def _choice_keyboard(upload: Upload, choices: list[upload_checks.Choice]) -> InlineKeyboardMarkup:
    rows = [[button(text, action, upload.token, *([arg] if arg else []))] for text, action, arg in choices]
    rows.append([button(staff_texts.CANCEL_BUTTON, "no", upload.token)])
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


def fill_from_street(upload: Upload, engine: SearchEngine) -> None:
    """District and newspaper name as the street's latest issue gives them."""
    assert upload.street is not None
    previous = engine.latest_issue(upload.street)
    if previous is not None and street_matches(previous.street, upload.street):
        upload.district = upload.district or previous.district
        upload.newspaper = upload.newspaper or previous.newspaper


async def next_step(data: BotData, upload: Upload) -> tuple[str, InlineKeyboardMarkup | None]:
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
            await asyncio.to_thread(data.uploads.take, upload.token)
            return staff_texts.which_street_unknown(name), None
        return (
            staff_texts.which_street(name),
            _street_keyboard(upload),
        )
    if upload.month is None:
        note = upload_checks.month_note(upload.checks)
        return staff_texts.which_month(note, name, upload.street), _month_keyboard(upload)
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
        await asyncio.to_thread(data.uploads.take, upload.token)
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


def draft_key(draft: publishing.Draft) -> str:
    return summary_edits.draft_key(draft.issue, draft.text)


async def apply_stored_edits(data: BotData, draft: publishing.Draft) -> None:
    """Lines corrected for this same upload before (e.g. before a restart) replace the generated ones."""
    edits = await asyncio.to_thread(edits_of(data).edits, draft_key(draft))
    draft.lines = summary_edits.apply(draft.lines, edits)


def _preview_keyboard(upload: Upload) -> InlineKeyboardMarkup:
    """✏️ 修改 under each line, then Publish and Cancel."""
    assert upload.draft is not None
    rows = [
        [
            InlineKeyboardButton(
                staff_texts.edit_button(n + 1, _short(article.title)), callback_data=f"{EDIT_PREFIX}{upload.token}:{n}"
            )
        ]
        for n, (article, _) in enumerate(upload.draft.lines[:MAX_EDIT_BUTTONS])
    ]
    rows.append(
        [button(staff_texts.PUBLISH_BUTTON, "ok", upload.token), button(staff_texts.CANCEL_BUTTON, "no", upload.token)]
    )
    return InlineKeyboardMarkup(rows)


def _short(title: str, size: int = 14) -> str:
    return title if len(title) <= size else title[: size - 1] + "…"


async def preview(data: BotData, upload: Upload) -> tuple[str, InlineKeyboardMarkup]:
    """The preview of a prepared upload (HTML) and its buttons."""
    draft = upload.draft
    assert draft is not None and upload.street is not None
    recipients = await asyncio.to_thread(publishing.recipients_for, data.services.db, upload.street)
    edits = await asyncio.to_thread(edits_of(data).edits, draft_key(draft))
    text = publishing.preview_text(draft, upload.file_name, len(recipients))
    if edits:
        text += staff_texts.edited_count(len(edits))
    text += staff_texts.HOW_TO_EDIT
    return text, _preview_keyboard(upload)


async def load_upload(data: BotData, token: str) -> Upload | None:
    """The upload as the last step (on any worker) left it, with its draft prepared again if needed."""
    upload = await asyncio.to_thread(data.uploads.get, token)
    if upload is None or upload.draft is not None or not upload.previewed:
        return upload
    # Previewed on another worker (or before a restart): the same inputs make the same draft
    # (or, if the corpus changed meanwhile, the question or refusal that is now due).
    await next_step(data, upload)
    return upload
