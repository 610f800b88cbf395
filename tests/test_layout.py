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


# Modules whose staff-facing wording lives in bot/core/staff_texts (and residents' in replies).
WORDED_ELSEWHERE = [
    *sorted((ROOT / "bot" / "edge").glob("staff*.py")),
    ROOT / "bot" / "edge" / "broadcast_reports.py",
    ROOT / "bot" / "edge" / "sender.py",
    ROOT / "bot" / "core" / "upload_checks.py",
    ROOT / "bot" / "core" / "publishing.py",
]


def chinese_strings(path: Path, root: Path = ROOT) -> list[str]:
    """String constants with a CJK character, docstrings left out: user-facing wording."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    docstrings = {
        id(node.body[0].value)
        for node in ast.walk(tree)
        if isinstance(node, (ast.Module, ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
        and node.body
        and isinstance(node.body[0], ast.Expr)
        and isinstance(node.body[0].value, ast.Constant)
    }
    return [
        f"{path.relative_to(root)}:{node.lineno}: {node.value[:40]!r}"
        for node in ast.walk(tree)
        if isinstance(node, ast.Constant)
        and isinstance(node.value, str)
        and id(node) not in docstrings
        and any("\u4e00" <= ch <= "\u9fff" for ch in node.value)
    ]


def test_staff_wording_lives_in_staff_texts() -> None:
    found = [line for path in WORDED_ELSEWHERE for line in chinese_strings(path)]
    assert found == [], "\n".join(found)


def test_the_wording_check_sees_inline_chinese(tmp_path: Path) -> None:
    module = tmp_path / "worded.py"
    module.write_text('"""文档。"""\nREPLY = f"已发布 {1}"\n', encoding="utf-8")
    assert len(chinese_strings(module, root=tmp_path)) == 1
