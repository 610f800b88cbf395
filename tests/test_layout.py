"""The layout's promises, read from the source: the library never imports the application or
Telegram, the application core never imports Telegram, and the library's public API resolves."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

import pytest

import index

ROOT = Path(__file__).resolve().parents[1]


def imported_modules(package: str) -> dict[str, set[str]]:
    """Every module a package's files import (absolute names), by file."""
    found: dict[str, set[str]] = {}
    for path in sorted((ROOT / package).rglob("*.py")):
        names: set[str] = set()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names.update(alias.name for alias in node.names)
            elif isinstance(node, ast.ImportFrom) and node.module and node.level == 0:
                names.add(node.module)
        found[str(path.relative_to(ROOT))] = names
    return found


def offenders(package: str, forbidden: tuple[str, ...]) -> list[str]:
    return [
        f"{file} imports {name}"
        for file, names in imported_modules(package).items()
        for name in sorted(names)
        if name.split(".")[0] in forbidden or any(name == f or name.startswith(f + ".") for f in forbidden)
    ]


@pytest.mark.parametrize(
    ("package", "forbidden"),
    [
        ("index", ("bot", "telegram", "bench")),
        ("bot/core", ("telegram", "bot.edge", "bot.cli")),
        ("bench", ("telegram",)),
    ],
)
def test_rooms_import_only_what_is_beneath_them(package: str, forbidden: tuple[str, ...]) -> None:
    assert offenders(package, forbidden) == []


def test_the_library_api_resolves_every_name_it_lists() -> None:
    assert index.__all__ == sorted(index.__all__)
    for name in index.__all__:
        assert getattr(index, name).__module__.startswith("index.")
    with pytest.raises(AttributeError):
        _ = index.no_such_name


def test_importing_the_library_loads_nothing_behind_it() -> None:
    code = "import sys, index; print(sorted(m for m in sys.modules if m.startswith(('index.', 'bot', 'telegram'))))"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    assert out.stdout.strip() == "[]"
