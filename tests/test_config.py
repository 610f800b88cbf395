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
