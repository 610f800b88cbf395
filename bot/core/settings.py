"""Reading `config.yaml` once, at the entry point, into plain settings objects."""

from __future__ import annotations

import dataclasses
import hashlib
import os
import re
from dataclasses import dataclass, field, fields
from pathlib import Path
from typing import Any, TypeVar

import yaml

from bot.core.state_dialect import SQLITE, StateUrlError, dialect_of, sqlite_path, sqlite_url
from index.settings import IndexParams, SearchSettings, from_mapping

DEFAULT_CONFIG = "config.yaml"
CONFIG_ENV = "NEWSBOT_CONFIG"
TOKEN_ENV = "TELEGRAM_BOT_TOKEN"
# Overrides `state.url`, so a database password need not be written into config.yaml.
STATE_URL_ENV = "NEWSBOT_STATE_URL"
# Overrides `telegram.webhook_secret` (the same for every worker behind one webhook URL).
WEBHOOK_SECRET_ENV = "NEWSBOT_WEBHOOK_SECRET"
# What Telegram accepts as a webhook secret token.
_SECRET_RE = re.compile(r"[A-Za-z0-9_-]{1,256}")

T = TypeVar("T")


@dataclass(frozen=True)
class TelegramSettings:
    """How the bot reaches the Bot API and paces residents."""

    base_url: str = "https://api.telegram.org/bot"
    base_file_url: str = "https://api.telegram.org/file/bot"
    poll_timeout: float = 10.0
    webhook_listen: str = "0.0.0.0"
    webhook_port: int = 8443
    # The secret Telegram sends with every webhook update. Empty: a new one each start (one
    # worker). Several workers behind one URL must share it: set it here or in $NEWSBOT_WEBHOOK_SECRET.
    webhook_secret: str = ""
    # Questions a resident may send in a burst, and the steady rate after it (per second).
    burst: int = 3
    rate_per_second: float = 1.0
    # Questions of one resident that may wait for their turn beyond the burst.
    queue: int = 10
    # Callback buttons older than this many days say they expired.
    button_days: int = 30


@dataclass(frozen=True)
class RoleSettings:
    """Telegram user ids of admins and (initial) staff."""

    admins: tuple[int, ...] = ()
    staff: tuple[int, ...] = ()


@dataclass(frozen=True)
class BroadcastSettings:
    """Pacing of broadcasts to subscribers."""

    messages_per_second: float = 25.0
    per_chat_interval: float = 1.0
    max_attempts: int = 5
    progress_every: float = 3.0
    # Telegram's paid broadcasts: up to 1,000 messages a second for 0.1 Telegram Stars each,
    # taken from the bot's balance. Off: the free limit of about 30 a second holds.
    allow_paid_broadcast: bool = False


# Telegram's broadcast limits: free, and with allow_paid_broadcast.
FREE_BROADCAST_RATE = 30.0
PAID_BROADCAST_RATE = 1000.0


@dataclass(frozen=True)
class StateSettings:
    """Where the bot's durable state lives: `sqlite:///PATH` or `postgresql://...` ("" = the default file)."""

    url: str = ""


@dataclass(frozen=True)
class Settings:
    """Everything the program reads from its configuration file."""

    config_path: Path
    corpus_dir: Path
    data_dir: Path
    index: IndexParams = field(default_factory=IndexParams)
    search: SearchSettings = field(default_factory=SearchSettings)
    workers: int = 0
    telegram: TelegramSettings = field(default_factory=TelegramSettings)
    roles: RoleSettings = field(default_factory=RoleSettings)
    broadcast: BroadcastSettings = field(default_factory=BroadcastSettings)
    state: StateSettings = field(default_factory=StateSettings)
    index_dir_override: Path | None = None

    @property
    def state_db(self) -> Path:
        """The default SQLite file holding subscribers, the query log and broadcasts."""
        return self.data_dir / "newsbot.sqlite3"

    @property
    def state_url(self) -> str:
        """The state database to open: `state.url` (already resolved), else the default SQLite file."""
        return self.state.url or sqlite_url(self.state_db)

    @property
    def index_dir(self) -> Path:
        """Where the index of `corpus_dir` lives (one directory per corpus)."""
        if self.index_dir_override is not None:
            return self.index_dir_override
        default_corpus = (self.config_path.parent / "corpus").resolve()
        if self.corpus_dir.resolve() == default_corpus:
            return self.data_dir / "index"
        digest = hashlib.sha1(str(self.corpus_dir.resolve()).encode()).hexdigest()[:8]
        return self.data_dir / f"index-{self.corpus_dir.name.split('.')[0]}-{digest}"


class ConfigError(ValueError):
    """The configuration file is missing or wrong; the message says where."""


def config_path(explicit: str | None) -> Path:
    """The configuration file to read: --config, else $NEWSBOT_CONFIG, else ./config.yaml."""
    return Path(explicit or os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)


TOP_LEVEL_KEYS = ("corpus_dir", "data_dir", "workers", "index", "search", "telegram", "roles", "broadcast", "state")
SECTIONS: dict[str, type[Any]] = {
    "index": IndexParams,
    "search": SearchSettings,
    "telegram": TelegramSettings,
    "broadcast": BroadcastSettings,
    "state": StateSettings,
}


def _typed(key: str, value: Any, default: Any) -> Any:
    """`value` checked against the type of `default` (YAML already gives typed scalars)."""
    if isinstance(default, bool):
        if not isinstance(value, bool):
            raise ConfigError(f"{key}: expected true or false, got {value!r}")
        return value
    if isinstance(default, int):
        if isinstance(value, bool) or not isinstance(value, int):
            raise ConfigError(f"{key}: expected a whole number, got {value!r}")
        return value
    if isinstance(default, float):
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise ConfigError(f"{key}: expected a number, got {value!r}")
        return float(value)
    if isinstance(default, str) and not isinstance(value, str):
        raise ConfigError(f"{key}: expected text, got {value!r}")
    return value


def _unknown(keys: Any, known: Any, where: str) -> list[str]:
    prefix = f"{where}." if where else ""
    return [f"unknown key {prefix}{key}" for key in keys if key not in known]


def validate_config(data: dict[str, Any]) -> list[str]:
    """Every problem of a parsed configuration (unknown keys, wrong types), each naming its key."""
    problems = _unknown(data, TOP_LEVEL_KEYS, "")
    for key in ("corpus_dir", "data_dir"):
        if key in data and not isinstance(data[key], str):
            problems.append(f"{key}: expected a path, got {data[key]!r}")
    if "workers" in data:
        try:
            _typed("workers", data["workers"], 0)
        except ConfigError as exc:
            problems.append(str(exc))
    sections: list[tuple[str, type[Any]]] = [*SECTIONS.items(), ("roles", RoleSettings)]
    for name, cls in sections:
        section = data.get(name)
        if section is None:
            continue
        if not isinstance(section, dict):
            problems.append(f"{name}: expected a mapping, got {section!r}")
            continue
        names = [f.name for f in fields(cls)]
        problems += _unknown(section, names, name)
        for key, value in section.items():
            if key not in names:
                continue
            if name == "roles":
                ids = value or []
                if not isinstance(ids, list) or any(isinstance(i, bool) or not isinstance(i, int) for i in ids):
                    problems.append(f"roles.{key}: expected a list of Telegram user ids, got {value!r}")
                continue
            try:
                _typed(f"{name}.{key}", value, getattr(cls, key))
            except ConfigError as exc:
                problems.append(str(exc))
    return problems


def _section(data: dict[str, Any], name: str) -> dict[str, Any]:
    value = data.get(name) or {}
    if not isinstance(value, dict):
        raise ConfigError(f"'{name}' must be a mapping")
    return value


def _built(cls: type[T], data: dict[str, Any], name: str) -> T:
    """A section's settings object; a value its class refuses is named with the section."""
    try:
        return from_mapping(cls, _section(data, name))
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{name}.{exc}") from exc


def load_settings(path: Path, corpus: str | None = None, index: str | None = None) -> Settings:
    """Read the configuration file; `corpus`/`index` override its directories."""
    if path.exists():
        try:
            data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
        except yaml.YAMLError as exc:
            raise ConfigError(f"{path}: not valid YAML ({exc})") from exc
    elif path.name == DEFAULT_CONFIG and not os.environ.get(CONFIG_ENV):
        data = {}
    else:
        raise ConfigError(f"configuration file {path} does not exist")
    if not isinstance(data, dict):
        raise ConfigError(f"{path}: expected a mapping at the top level")
    problems = validate_config(data)
    if problems:
        raise ConfigError(f"{path}: " + "; ".join(problems))
    base = path.resolve().parent
    state = StateSettings(url=_state_url(path, base, _section(data, "state")))
    try:
        roles = _section(data, "roles")
        settings = Settings(
            config_path=path.resolve(),
            corpus_dir=Path(corpus) if corpus else base / str(data.get("corpus_dir", "corpus")),
            data_dir=base / str(data.get("data_dir", "data")),
            index=_built(IndexParams, data, "index"),
            search=_built(SearchSettings, data, "search"),
            workers=int(data.get("workers", 0)),
            telegram=_with_secret(path, _built(TelegramSettings, data, "telegram")),
            roles=RoleSettings(
                admins=tuple(int(x) for x in roles.get("admins") or ()),
                staff=tuple(int(x) for x in roles.get("staff") or ()),
            ),
            broadcast=_checked_pace(path, _built(BroadcastSettings, data, "broadcast")),
            state=state,
            index_dir_override=Path(index) if index else None,
        )
    except ConfigError as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    except (TypeError, ValueError) as exc:
        raise ConfigError(f"{path}: {exc}") from exc
    return settings


def _state_url(path: Path, base: Path, section: dict[str, Any]) -> str:
    """$NEWSBOT_STATE_URL, else `state.url`, checked; a relative SQLite path is relative to the config file."""
    from_env = os.environ.get(STATE_URL_ENV, "").strip()
    url = from_env or str(section.get("url") or "").strip()
    if not url:
        return ""
    where = f"${STATE_URL_ENV}" if from_env else f"{path}: state.url"
    try:
        dialect = dialect_of(url)
    except StateUrlError as exc:
        raise ConfigError(f"{where}: {exc}") from exc
    if dialect == SQLITE:
        file = sqlite_path(url)
        return sqlite_url(file if file.is_absolute() else base / file)
    return url


def _with_secret(path: Path, telegram: TelegramSettings) -> TelegramSettings:
    """The Telegram settings with $NEWSBOT_WEBHOOK_SECRET applied, the secret checked."""
    from_env = os.environ.get(WEBHOOK_SECRET_ENV, "").strip()
    secret = from_env or telegram.webhook_secret
    if secret and not _SECRET_RE.fullmatch(secret):
        where = f"${WEBHOOK_SECRET_ENV}" if from_env else f"{path}: telegram.webhook_secret"
        raise ConfigError(f"{where}: 1-256 characters of A-Z, a-z, 0-9, _ and - (what Telegram accepts)")
    return dataclasses.replace(telegram, webhook_secret=secret)


def _checked_pace(path: Path, broadcast: BroadcastSettings) -> BroadcastSettings:
    """The broadcast pace within what Telegram allows (more than ~30/s only as paid broadcasts)."""
    rate = broadcast.messages_per_second
    limit = PAID_BROADCAST_RATE if broadcast.allow_paid_broadcast else FREE_BROADCAST_RATE
    if rate <= 0:
        raise ConfigError(f"{path}: broadcast.messages_per_second must be positive, got {rate:g}")
    if rate > limit:
        if broadcast.allow_paid_broadcast:
            raise ConfigError(f"{path}: broadcast.messages_per_second {rate:g} is above Telegram's paid limit of 1000")
        raise ConfigError(
            f"{path}: broadcast.messages_per_second {rate:g} is above Telegram's free limit of 30 a second; "
            "set broadcast.allow_paid_broadcast: true to pay 0.1 Telegram Stars a message for up to 1000"
        )
    return broadcast
