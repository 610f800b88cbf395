"""Staff uploads between the document and Publish/Cancel, kept in the state database.

An upload is a conversation of several messages (the file, the street, the month, the checks,
✏️ edits, Publish). With several workers any of them may receive the next message, so the
conversation's steps live in the `uploads` table (migration 008_uploads), not in one process's
memory: the file's bytes, and everything staff answered as JSON. The prepared draft (the parsed
issue and its summary lines) is not stored: it is made again from those, by the worker that
needs it, and kept in that worker's memory while the row's version is unchanged.
"""

from __future__ import annotations

import dataclasses
import json
import logging
import threading
import time
from dataclasses import dataclass
from typing import Any

from bot.core import publishing
from bot.core.state import Database
from bot.core.upload_checks import UploadChecks
from index.records import Issue

log = logging.getLogger(__name__)


@dataclass
class Upload:
    """A staff member's uploaded issue, between the document and Publish/Cancel."""

    token: str
    chat_id: int
    user_id: int
    file_name: str
    data: bytes
    street: str | None = None
    month: str | None = None
    district: str = ""
    newspaper: str = ""
    street_choices: list[str] = dataclasses.field(default_factory=list)
    draft: publishing.Draft | None = None
    created: float = dataclasses.field(default_factory=time.time)
    checks: UploadChecks = dataclasses.field(default_factory=UploadChecks)
    # The row's version this object was read or written at (see UploadStore).
    version: int = 0
    # Whether a preview was shown: another worker then prepares the draft again before acting.
    previewed: bool = False


def _state(upload: Upload) -> str:
    checks = dataclasses.asdict(upload.checks)
    checks["replaces"] = upload.checks.replaces.to_dict() if upload.checks.replaces is not None else None
    return json.dumps(
        {
            "file_name": upload.file_name,
            "street": upload.street,
            "month": upload.month,
            "district": upload.district,
            "newspaper": upload.newspaper,
            "street_choices": upload.street_choices,
            "previewed": upload.draft is not None or upload.previewed,
            "checks": checks,
        },
        ensure_ascii=False,
    )


def _upload(row: Any) -> Upload:
    state = json.loads(row["state"])
    checks = dict(state["checks"])
    replaces = checks.pop("replaces", None)
    known = {f.name for f in dataclasses.fields(UploadChecks)}
    upload_checks = UploadChecks(**{k: v for k, v in checks.items() if k in known})
    upload_checks.replaces = Issue(**replaces) if replaces else None
    return Upload(
        token=str(row["token"]),
        chat_id=int(row["chat_id"]),
        user_id=int(row["user_id"]),
        file_name=str(state["file_name"]),
        data=bytes(row["data"]),
        street=state["street"],
        month=state["month"],
        district=state["district"],
        newspaper=state["newspaper"],
        street_choices=list(state["street_choices"]),
        created=float(row["created"]),
        checks=upload_checks,
        version=int(row["version"]),
        previewed=bool(state["previewed"]),
    )


class UploadStore:
    """The open uploads of a state database, with this worker's prepared drafts kept in memory."""

    def __init__(self, db: Database) -> None:
        self.db = db
        self._lock = threading.Lock()
        self._cache: dict[str, Upload] = {}

    def add(self, upload: Upload) -> None:
        """Record a new upload."""
        upload.version = 1
        self.db.execute(
            "INSERT INTO uploads (token, chat_id, user_id, created, version, data, state) VALUES (?, ?, ?, ?, ?, ?, ?)",
            (upload.token, upload.chat_id, upload.user_id, upload.created, 1, upload.data, _state(upload)),
        )
        with self._lock:
            self._cache[upload.token] = upload

    def save(self, upload: Upload) -> bool:
        """Record the upload's new answers; False when it is gone (cancelled, published, expired)."""
        with self.db.transaction() as conn:
            rows = conn.execute(
                "UPDATE uploads SET state = ?, version = version + 1 WHERE token = ? RETURNING version",
                (_state(upload), upload.token),
            ).fetchall()
        with self._lock:
            if not rows:
                self._cache.pop(upload.token, None)
                return False
            upload.version = int(rows[0][0])
            self._cache[upload.token] = upload
        return True

    def get(self, token: str) -> Upload | None:
        """The upload, as the last worker to change it left it (its draft only if made here since)."""
        rows = self.db.query("SELECT * FROM uploads WHERE token = ?", (token,))
        with self._lock:
            if not rows:
                self._cache.pop(token, None)
                return None
            cached = self._cache.get(token)
            if cached is not None and cached.version == int(rows[0]["version"]):
                return cached
        upload = _upload(rows[0])
        with self._lock:
            self._cache[token] = upload
        return upload

    def take(self, token: str) -> bool:
        """Remove the upload; True only for the one caller (of any worker) that removed it."""
        cursor = self.db.execute("DELETE FROM uploads WHERE token = ?", (token,))
        with self._lock:
            self._cache.pop(token, None)
        return bool(cursor.rowcount)

    def expire(self, ttl: float, now: float | None = None) -> int:
        """Forget uploads older than `ttl` seconds; returns how many."""
        cutoff = (time.time() if now is None else now) - ttl
        cursor = self.db.execute("DELETE FROM uploads WHERE created < ?", (cutoff,))
        with self._lock:
            for token in [t for t, u in self._cache.items() if u.created < cutoff]:
                del self._cache[token]
        return int(cursor.rowcount or 0)
