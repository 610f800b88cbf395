"""Settings for tests: a config.yaml aimed at the fake Bot API read back the way `newsbot` reads
it (`write_settings`), settings over a private copy of the indexed corpus with staff roles
(`make_settings`), and the config.yaml a `newsbot` command run over such settings reads."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import yaml
from corpora import CORPUS, copy_corpus_and_index
from fake_bot_api import FakeBotApi

from bot.core.settings import BroadcastSettings, RoleSettings, Settings, TelegramSettings, load_settings

# Telegram user ids with a role in `make_settings`, and one without.
ADMIN, STAFF, RESIDENT = 1001, 1002, 5005


def write_settings(
    directory: Path, api: FakeBotApi, index_dir: Path, corpus_dir: Path = CORPUS, **telegram: Any
) -> Settings:
    """A config.yaml aimed at the fake server, read back the way `newsbot` reads it.

    Tests act faster than any resident, so the burst allowance is generous unless a test
    (the slow-down one) passes its own.
    """
    config = {
        "corpus_dir": str(corpus_dir),
        "data_dir": str(directory / "data"),
        "telegram": {
            "base_url": api.base_url,
            "base_file_url": api.base_file_url,
            "poll_timeout": 0.2,
            "burst": 50,
            **telegram,
        },
    }
    path = directory / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return load_settings(path, index=str(index_dir))


def make_settings(
    root: Path,
    api: FakeBotApi | None = None,
    *,
    rate: float = 200.0,
    per_chat_interval: float = 1.0,
    progress_every: float = 0.3,
    max_attempts: int = 3,
) -> Settings:
    """Settings over a private copy of the indexed corpus under `root`, with an admin and a staff member."""
    copy_corpus_and_index(root)
    telegram = TelegramSettings()
    if api is not None:
        telegram = TelegramSettings(
            base_url=api.base_url, base_file_url=api.base_file_url, poll_timeout=0.2, burst=1000, rate_per_second=1000
        )
    return Settings(
        config_path=root / "config.yaml",
        corpus_dir=root / "corpus",
        data_dir=root / "data",
        workers=1,
        telegram=telegram,
        roles=RoleSettings(admins=(ADMIN,), staff=(STAFF,)),
        broadcast=BroadcastSettings(
            messages_per_second=rate,
            per_chat_interval=per_chat_interval,
            max_attempts=max_attempts,
            progress_every=progress_every,
        ),
    )


def write_cli_config(settings: Settings, **extra: Any) -> Path:
    """A config.yaml beside the settings' data directory for `newsbot` commands over its corpus."""
    path = settings.data_dir.parent / "config.yaml"
    config = {"corpus_dir": str(settings.corpus_dir), "data_dir": str(settings.data_dir), **extra}
    path.write_text(yaml.safe_dump(config), encoding="utf-8")
    return path
