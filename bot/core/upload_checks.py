"""The questions the bot asks staff about an uploaded issue before its preview, and their texts:
is an unknown street really new, is a month far ahead really meant, and is a second issue for a
street and month a correction of the first or another issue.

The rules are the command line's (`bot.core.issue_facts`); this module only keeps what staff have
answered so far (`UploadChecks`, one per upload) and words the next question. `bot.edge.staff` turns
the questions' buttons into callback data and shows them.
"""

from __future__ import annotations

import datetime as dtm
import html
from dataclasses import dataclass, field

from bot.core import staff_texts
from bot.core.dates import month_label
from bot.core.issue_facts import MONTH_RE, month_problem, months_from_issue, parse_month, same_street_and_month
from bot.core.publishing import issue_title
from index.records import Issue

# Month buttons offered at most: the issue's own months first, then the latest months.
MONTH_BUTTONS = 4
CORRECTION, ANOTHER = "correction", "another"

# (button text, action, argument); the action names are `bot.edge.staff`'s callback actions.
Choice = tuple[str, str, str]


@dataclass
class UploadChecks:
    """What the upload says about itself and what staff answered about it."""

    text: str = ""
    months: list[str] = field(default_factory=list)
    # A month the caption named that is no month ("2020-13"), to say why it was not taken.
    bad_month: str = ""
    street_new: bool = False
    street_confirmed: bool = False
    future_confirmed: bool = False
    kind: str = ""
    replaces: Issue | None = None
    notify: bool = False


def read_upload(text: str, file_name: str, caption: str) -> UploadChecks:
    """The months the issue names (file name, dates in its text) and any invalid month in the caption."""
    checks = UploadChecks(text=text, months=months_from_issue(text, file_name))
    for match in MONTH_RE.finditer(caption or ""):
        if parse_month(match.group(0)) is None:
            checks.bad_month = match.group(0)
            break
    return checks


def month_choices(checks: UploadChecks, recent: list[str]) -> list[str]:
    """Months to offer as buttons: those the issue names, then the latest ones (`recent`)."""
    out: list[str] = []
    for month in [*checks.months, *recent]:
        if month not in out and parse_month(month) == month:
            out.append(month)
    return out[:MONTH_BUTTONS]


def street_question(checks: UploadChecks, street: str, known: list[str], file_name: str) -> str | None:
    """The question about a street no issue has yet (None when it is known or confirmed)."""
    if not checks.street_new or checks.street_confirmed:
        return None
    return staff_texts.new_street_question(file_name, street, known)


def new_street_button(street: str) -> Choice:
    """Confirms a street with no issue yet."""
    return (staff_texts.new_street_button(street), "sn", "")


def month_note(checks: UploadChecks) -> str:
    """Why the caption's month was not taken, if it was not a month."""
    if not checks.bad_month:
        return ""
    return staff_texts.bad_month_note(checks.bad_month)


def future_question(checks: UploadChecks, month: str, today: dtm.date) -> tuple[str, list[Choice]] | None:
    """Ask again about a month far after today (None when it is near or confirmed)."""
    if checks.future_confirmed or month_problem(month, today) != "future":
        return None
    label = month_label(month)
    return (
        staff_texts.future_month_question(label, today.year, today.month),
        [(staff_texts.future_month_button(label), "mf", "")],
    )


def correction_question(
    checks: UploadChecks, issues: list[Issue], street: str, month: str, file_name: str
) -> tuple[str, list[Choice]] | None:
    """A street and month that already have an issue: a correction, or another issue?"""
    if checks.kind:
        return None
    existing = same_street_and_month(issues, street, month)
    if existing is None:
        return None
    checks.replaces = existing
    title = html.escape(issue_title(existing))
    return (
        staff_texts.same_month_question(file_name, title, existing.file),
        [(staff_texts.CORRECTION_CHOICE, "co", ""), (staff_texts.ANOTHER_ISSUE_CHOICE, "an", "")],
    )


def press(checks: UploadChecks, action: str) -> bool:
    """Apply an answer button of this module; False when the action is not one of them."""
    if action == "sn":
        checks.street_confirmed = True
    elif action == "mf":
        checks.future_confirmed = True
    elif action == "co":
        checks.kind = CORRECTION
    elif action == "an":
        checks.kind, checks.replaces = ANOTHER, None
    else:
        return False
    return True


def street_changed(checks: UploadChecks, new: bool) -> None:
    """Staff picked (or the caption named) another street: earlier answers about it no longer hold."""
    checks.street_new, checks.street_confirmed = new, False
    checks.kind, checks.replaces = "", None


def month_changed(checks: UploadChecks) -> None:
    """Staff picked another month."""
    checks.future_confirmed = False
    checks.kind, checks.replaces = "", None


def is_correction(checks: UploadChecks) -> bool:
    """Whether the upload replaces an earlier issue."""
    return checks.kind == CORRECTION and checks.replaces is not None


def correction_preview_note(checks: UploadChecks) -> str:
    """The line above a correction's preview (HTML)."""
    assert checks.replaces is not None
    return staff_texts.correction_preview_note(issue_title(checks.replaces), checks.replaces.file)


CORRECTION_BUTTONS: list[Choice] = [
    (staff_texts.PUBLISH_CORRECTION_QUIETLY, "ok", ""),
    (staff_texts.PUBLISH_CORRECTION_AND_NOTIFY, "okn", ""),
]
