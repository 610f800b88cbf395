"""Summary lines staff corrected before a broadcast, and the corrections being asked for.

Staff press ✏️ 修改 under a line of an issue's preview and send the corrected line (bot.edge.staff);
`newsbot publish --summary FILE` reads corrected lines from a file (bot.cli.publish). Both check
a line with `check_line`. The bot keeps corrections in the state database (migration
005_summary_edits) under the draft's key (street, month and the text's content key) and the article's number, so after a
restart the same file sent again (under any name) shows the corrected lines, and a correction that arrives after
the restart is kept for it. The questions being asked are cached in memory as well: the bot's
message filter must not read the database on the event loop for every message (with several
workers on PostgreSQL it reads them again at most once a second, see `asking`).
"""

from __future__ import annotations

import logging
import threading
import time
from dataclasses import dataclass

from bot.core.state import SHARED_CACHE_SECONDS, Database, Row
from index.article import Article
from index.dedupe import content_key
from index.records import Issue
from index.summary import MAX_CHARS

log = logging.getLogger(__name__)

EMPTY, TOO_LONG = "empty", "too_long"


def check_line(text: str) -> tuple[str, str | None]:
    """(the line as it will be sent, the problem: None, EMPTY or TOO_LONG).

    Line breaks and runs of spaces become one space: a summary is one line under its headline.
    """
    line = " ".join(text.split())
    if not line:
        return line, EMPTY
    if len(line) > MAX_CHARS:
        return line, TOO_LONG
    return line, None


def draft_key(issue: Issue, text: str) -> str:
    """What identifies an upload of an issue across restarts and file names: street, month and text."""
    return f"{issue.street}|{issue.month}|{content_key(text)}"


def apply(lines: list[tuple[Article, str]], edits: dict[int, str]) -> list[tuple[Article, str]]:
    """The lines with each corrected article's line (by its number, from 1) replaced."""
    return [(article, edits.get(number, line)) for number, (article, line) in enumerate(lines, 1)]


@dataclass(frozen=True)
class Prompt:
    """A staff member was asked for the corrected line of one article of a preview."""

    chat_id: int
    user_id: int
    draft_key: str
    number: int
    headline: str
    token: str
    message_id: int | None
    asked_at: float


class SummaryEdits:
    """The corrections and open questions of one state database."""

    def __init__(self, db: Database, ttl: float) -> None:
        self.db = db
        self.ttl = ttl
        self._lock = threading.Lock()
        self._prompts: dict[tuple[int, int], Prompt] = {}
        self._loaded_at = 0.0
        self._load()

    def _load(self) -> None:
        rows = self.db.query("SELECT * FROM summary_edit_prompts WHERE asked_at > ?", (time.time() - self.ttl,))
        prompts = {(p.chat_id, p.user_id): p for p in (_prompt(r) for r in rows)}
        with self._lock:
            self._prompts = prompts
            self._loaded_at = time.monotonic()

    def edits(self, key: str) -> dict[int, str]:
        """Article number (from 1) -> corrected line, for one draft."""
        rows = self.db.query("SELECT number, line FROM summary_edits WHERE draft_key = ?", (key,))
        return {int(r[0]): str(r[1]) for r in rows}

    def save(self, key: str, number: int, line: str, user_id: int | None) -> None:
        """Record a corrected line (replacing an earlier correction of it)."""
        self.db.execute(
            "INSERT INTO summary_edits (draft_key, number, line, edited_by, edited_at) VALUES (?, ?, ?, ?, ?) "
            "ON CONFLICT (draft_key, number) DO UPDATE SET line = excluded.line, edited_by = excluded.edited_by, "
            "edited_at = excluded.edited_at",
            (key, number, line, user_id, time.time()),
        )
        log.info("user %s corrected summary line %d of %s", user_id, number, key.rpartition("|")[0])

    def discard(self, key: str) -> None:
        """Forget a draft's corrections and the questions about it (the upload was cancelled)."""
        with self.db.transaction() as conn:
            conn.execute("DELETE FROM summary_edits WHERE draft_key = ?", (key,))
            conn.execute("DELETE FROM summary_edit_prompts WHERE draft_key = ?", (key,))
        with self._lock:
            for who in [w for w, p in self._prompts.items() if p.draft_key == key]:
                del self._prompts[who]

    def close(self, key: str) -> None:
        """Drop the open questions about a draft (it was published); its corrections stay on record."""
        self.db.execute("DELETE FROM summary_edit_prompts WHERE draft_key = ?", (key,))
        with self._lock:
            for who in [w for w, p in self._prompts.items() if p.draft_key == key]:
                del self._prompts[who]

    def ask(self, prompt: Prompt) -> None:
        """Remember that this staff member's next text is the corrected line (one question at a time)."""
        self.db.execute(
            "INSERT INTO summary_edit_prompts (chat_id, user_id, draft_key, number, headline, "
            "token, message_id, asked_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?) "
            "ON CONFLICT (chat_id, user_id) DO UPDATE SET draft_key = excluded.draft_key, number = excluded.number, "
            "headline = excluded.headline, token = excluded.token, message_id = excluded.message_id, "
            "asked_at = excluded.asked_at",
            (
                prompt.chat_id,
                prompt.user_id,
                prompt.draft_key,
                prompt.number,
                prompt.headline,
                prompt.token,
                prompt.message_id,
                prompt.asked_at,
            ),
        )
        with self._lock:
            self._prompts[(prompt.chat_id, prompt.user_id)] = prompt

    def asking(self, chat_id: int, user_id: int, recheck: bool = False) -> Prompt | None:
        """The open question for this staff member in this chat (from memory: safe on the event loop).

        With several workers the memory is read again when older than SHARED_CACHE_SECONDS: the
        question may have been asked through another worker. `recheck` reads it again at once
        when memory knows no question (a staff member's text: the ✏️ may have been pressed on
        another worker a moment ago).
        """
        with self._lock:
            prompt = self._prompts.get((chat_id, user_id))
            stale = time.monotonic() - self._loaded_at > SHARED_CACHE_SECONDS
        if self.db.shared and (stale or (prompt is None and recheck)):
            self._load()
            with self._lock:
                prompt = self._prompts.get((chat_id, user_id))
        if prompt is not None and time.time() - prompt.asked_at > self.ttl:
            return None
        return prompt

    def answered(self, chat_id: int, user_id: int) -> None:
        """The question was answered or dropped."""
        self.db.execute("DELETE FROM summary_edit_prompts WHERE chat_id = ? AND user_id = ?", (chat_id, user_id))
        with self._lock:
            self._prompts.pop((chat_id, user_id), None)


def _prompt(row: Row) -> Prompt:
    return Prompt(
        chat_id=int(row["chat_id"]),
        user_id=int(row["user_id"]),
        draft_key=str(row["draft_key"]),
        number=int(row["number"]),
        headline=str(row["headline"]),
        token=str(row["token"]),
        message_id=None if row["message_id"] is None else int(row["message_id"]),
        asked_at=float(row["asked_at"]),
    )
