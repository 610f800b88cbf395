"""Who may use staff and admin commands: admins from config.yaml, staff from config.yaml plus
the changes admins make from the bot (the `staff` table, where a row overrides the config)."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass

from bot.core.settings import RoleSettings
from bot.core.state import SHARED_CACHE_SECONDS, Database

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class StaffMember:
    """One person who may publish, and where that right comes from."""

    user_id: int
    admin: bool
    # "config" (config.yaml) or "bot" (added by an admin with /staff add).
    source: str


class RoleChangeError(ValueError):
    """An admin's /staff change that cannot be made; the message says why, for the admin."""


# Telegram user ids are positive and fit in 52 bits; a negative id is a group or channel.
MAX_USER_ID = 2**52


def check_user_id(user_id: int) -> None:
    """Raise RoleChangeError unless `user_id` can be a Telegram user's id."""
    if user_id < 0:
        raise RoleChangeError(f"{user_id} 是群组或频道的 ID，只有个人用户可以成为工作人员。")
    if user_id == 0 or user_id >= MAX_USER_ID:
        raise RoleChangeError(f"{user_id} 不是有效的 Telegram 用户 ID。")


class Roles:
    """Answers "is this user staff / admin?" and records admins' staff changes."""

    def __init__(self, settings: RoleSettings, db: Database) -> None:
        self.admins = frozenset(settings.admins)
        self.config_staff = frozenset(settings.staff)
        self.db = db
        # The staff table in memory: role checks run on the event loop and must not wait on the
        # database each time. With SQLite only this process's admins change it (through
        # `_record`); with several workers it is read again when older than SHARED_CACHE_SECONDS.
        self._overrides: dict[int, bool] = {}
        self._loaded_at = 0.0
        self._load()

    def _load(self) -> None:
        self._overrides = {
            int(row["user_id"]): bool(row["active"]) for row in self.db.query("SELECT user_id, active FROM staff")
        }
        self._loaded_at = time.monotonic()

    def _current(self) -> dict[int, bool]:
        if self.db.shared and time.monotonic() - self._loaded_at > SHARED_CACHE_SECONDS:
            self._load()
        return self._overrides

    def is_admin(self, user_id: int | None) -> bool:
        """Whether the user may manage staff and rebuild the index."""
        return user_id is not None and user_id in self.admins

    def is_staff(self, user_id: int | None) -> bool:
        """Whether the user may publish, see broadcasts and stats (admins always may)."""
        if user_id is None:
            return False
        if user_id in self.admins:
            return True
        overrides = self._current()
        if user_id in overrides:
            return overrides[user_id]
        return user_id in self.config_staff

    def add_staff(self, user_id: int, by: int) -> bool:
        """Make a user staff; False when they already were."""
        check_user_id(user_id)
        if self.is_staff(user_id):
            return False
        self._record(user_id, True, by)
        log.info("user %s made %s staff", by, user_id)
        return True

    def remove_staff(self, user_id: int, by: int) -> bool:
        """Take staff rights away; False when the user was not staff. Admins cannot be removed here."""
        check_user_id(user_id)
        if user_id in self.admins:
            raise RoleChangeError("管理员在 config.yaml 里设置，不能在这里移除。")
        if not self.is_staff(user_id):
            return False
        self._record(user_id, False, by)
        log.info("user %s removed %s from staff", by, user_id)
        return True

    def members(self) -> list[StaffMember]:
        """Everyone with staff rights: admins first, then staff by user id."""
        overrides = dict(self._current())
        out = [StaffMember(uid, True, "config") for uid in sorted(self.admins)]
        staff = {uid: "config" for uid in self.config_staff if overrides.get(uid, True)}
        staff.update({uid: "bot" for uid, active in overrides.items() if active and uid not in self.config_staff})
        out.extend(StaffMember(uid, False, source) for uid, source in sorted(staff.items()) if uid not in self.admins)
        return out

    def removed_config_staff(self) -> list[int]:
        """Staff that config.yaml still lists but an admin removed from the bot."""
        removed = {uid for uid, active in self._current().items() if not active}
        return sorted((removed & self.config_staff) - self.admins)

    def _record(self, user_id: int, active: bool, by: int) -> None:
        self.db.execute(
            "INSERT INTO staff (user_id, active, changed_by, changed_at) VALUES (?, ?, ?, ?) "
            "ON CONFLICT(user_id) DO UPDATE SET active = excluded.active, "
            "changed_by = excluded.changed_by, changed_at = excluded.changed_at",
            (user_id, int(active), by, time.time()),
        )
        self._overrides[user_id] = active
