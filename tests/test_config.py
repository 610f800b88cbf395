"""config.yaml is checked once at start: unknown keys and wrong types are named with the file and
key, and `newsbot` exits with a usage error instead of running on a half-read configuration."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest
from corpora import ROOT

from bot.core.settings import ConfigError, _typed, load_settings


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "config.yaml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_shipped_config_is_valid() -> None:
    settings = load_settings(ROOT / "config.yaml")
    assert settings.telegram.burst == 3


@pytest.mark.parametrize(
    ("text", "named"),
    [
        ("corpus_dri: corpus\n", "unknown key corpus_dri"),
        ("telegram:\n  brust: 3\n", "unknown key telegram.brust"),
        ("telegram:\n  burst: three\n", "telegram.burst: expected a whole number, got 'three'"),
        ("telegram:\n  burst: true\n", "telegram.burst: expected a whole number, got True"),
        ("search:\n  min_coverage: half\n", "search.min_coverage: expected a number"),
        ("workers: '2'\n", "workers: expected a whole number, got '2'"),
        ("roles:\n  admins: [alice]\n", "roles.admins: expected a list of Telegram user ids"),
        ("roles: [1, 2]\n", "roles: expected a mapping"),
        ("data_dir: [a]\n", "data_dir: expected a path"),
        ("index:\n  k_1: 1.2\n", "unknown key index.k_1"),
        ("search:\n  min_coverge: 0.4\n", "unknown key search.min_coverge"),
        ("broadcast:\n  per_chat: 2\n", "unknown key broadcast.per_chat"),
        ("roles:\n  admin: [1]\n", "unknown key roles.admin"),
        # YAML 1.1 reads an unquoted yes/no as a boolean: a text setting refuses it.
        ("index:\n  segmenter: no\n", "index.segmenter: expected text, got False"),
        ("index:\n  segmenter: jeiba\n", "index.segmenter: expected auto"),
        ("telegram:\n  rate_per_second: 'fast'\n", "telegram.rate_per_second: expected a number, got 'fast'"),
    ],
)
def test_each_mistake_is_named_with_file_and_key(tmp_path: Path, text: str, named: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert str(path) in str(caught.value) and named in str(caught.value)


def test_all_mistakes_are_reported_at_once(tmp_path: Path) -> None:
    path = write(tmp_path, "corpus_dri: x\ntelegram:\n  burst: many\n")
    with pytest.raises(ConfigError) as caught:
        load_settings(path)
    assert "corpus_dri" in str(caught.value) and "telegram.burst" in str(caught.value)


def test_a_string_or_number_is_not_a_boolean() -> None:
    for value in ("no", "false", "yes", "true", "0", "", 0, 1):
        with pytest.raises(ConfigError, match=r"x\.enabled: expected true or false"):
            _typed("x.enabled", value, False)
    assert _typed("x.enabled", False, True) is False
    assert _typed("x.enabled", True, False) is True


def test_newsbot_refuses_a_misspelled_key(tmp_path: Path) -> None:
    path = write(tmp_path, "corpus_dri: corpus\n")
    done = subprocess.run(
        [sys.executable, "-m", "bot.cli", "search", "--config", str(path), "垃圾分类"],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=ROOT,
    )
    assert done.returncode == 2, done.stderr
    assert "corpus_dri" in done.stderr and str(path) in done.stderr


def test_webhook_secret_from_config_or_environment(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Workers behind one webhook URL share its secret; Telegram accepts only [A-Za-z0-9_-]{1,256}."""
    config = tmp_path / "config.yaml"
    monkeypatch.delenv("NEWSBOT_WEBHOOK_SECRET", raising=False)
    config.write_text("telegram:\n  webhook_secret: from-the-file_1\n", encoding="utf-8")
    assert load_settings(config).telegram.webhook_secret == "from-the-file_1"
    monkeypatch.setenv("NEWSBOT_WEBHOOK_SECRET", "from-the-environment")
    assert load_settings(config).telegram.webhook_secret == "from-the-environment"
    monkeypatch.setenv("NEWSBOT_WEBHOOK_SECRET", "no spaces allowed")
    with pytest.raises(ConfigError, match="NEWSBOT_WEBHOOK_SECRET"):
        load_settings(config)
    monkeypatch.delenv("NEWSBOT_WEBHOOK_SECRET")
    config.write_text("telegram:\n  webhook_secret: 'x' \n", encoding="utf-8")
    assert load_settings(config).telegram.webhook_secret == "x"
    config.write_text("telegram:\n  webhook_secret: 'bad/secret'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match=r"telegram\.webhook_secret"):
        load_settings(config)


def test_broadcast_pace_within_telegrams_limits(tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text("broadcast:\n  messages_per_second: 100\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="allow_paid_broadcast: true"):
        load_settings(config)
    config.write_text("broadcast:\n  messages_per_second: 100\n  allow_paid_broadcast: true\n", encoding="utf-8")
    assert load_settings(config).broadcast.allow_paid_broadcast
    config.write_text("broadcast:\n  messages_per_second: 5000\n  allow_paid_broadcast: true\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="paid limit of 1000"):
        load_settings(config)
    config.write_text("broadcast:\n  allow_paid_broadcast: 'yes'\n", encoding="utf-8")
    with pytest.raises(ConfigError, match="true or false"):
        load_settings(config)
