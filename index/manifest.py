"""The corpus manifest (`manifest.yaml`): what it says of each file (street, district, newspaper,
month), and editing one file's entry in place, keeping the others and every comment."""

from __future__ import annotations

import logging
from pathlib import Path
from typing import Any

import yaml

from index.atomic import write_atomically
from index.records import Skipped

log = logging.getLogger(__name__)

MANIFEST_NAME = "manifest.yaml"


def read_manifest(directory: Path) -> tuple[dict[str, dict[str, Any]], list[Skipped]]:
    """The per-file facts of `manifest.yaml` (street, district, newspaper, month)."""
    path = directory / MANIFEST_NAME
    if not path.exists():
        return {}, []
    try:
        data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except (yaml.YAMLError, UnicodeDecodeError) as exc:
        return {}, [Skipped(str(path), f"unreadable manifest: {exc}")]
    issues = data.get("issues") if isinstance(data, dict) else None
    if not isinstance(issues, dict):
        return {}, [Skipped(str(path), "manifest has no 'issues' mapping")]
    return {str(k): (v if isinstance(v, dict) else {}) for k, v in issues.items()}, []


def write_manifest_entry(directory: Path, file_name: str, facts: dict[str, str]) -> None:
    """Add or replace one file's entry in the manifest, keeping the others and every comment.

    The entry is written as one flow-style line under `issues:` (the manifest's own style); only
    when the file's layout does not allow that is the whole manifest written out again.
    Callers hold the writer lock (index.lock), so read-modify-write is safe.
    """
    path = directory / MANIFEST_NAME
    entry = {k: v for k, v in facts.items() if v}
    original = path.read_text(encoding="utf-8") if path.exists() else ""
    updated = _edited_manifest(original, file_name, entry)
    data: Any = None
    if updated is not None:
        try:
            data = yaml.safe_load(updated)
        except yaml.YAMLError:
            data = None
    expected = (yaml.safe_load(original) or {}) if original else {}
    if not isinstance(expected, dict):
        expected = {}
    issues = expected.setdefault("issues", {})
    if not isinstance(issues, dict):
        expected["issues"] = issues = {}
    issues[file_name] = entry
    if updated is None or data != expected:
        log.warning("manifest layout not editable line by line; rewriting %s without its comments", path)
        updated = yaml.safe_dump(expected, allow_unicode=True, sort_keys=True)
    write_atomically(path, updated.encode("utf-8"))


def remove_manifest_entry(directory: Path, file_name: str) -> None:
    """Drop one file's entry from the manifest (its line only; comments stay). Callers hold the lock."""
    path = directory / MANIFEST_NAME
    if not path.exists():
        return
    original = path.read_text(encoding="utf-8")
    key = yaml.safe_dump(file_name, allow_unicode=True).split("\n")[0]
    kept = [ln for ln in original.splitlines() if not ln.strip().startswith((f"{key}:", f"{file_name}:"))]
    updated = "\n".join(kept) + "\n"
    data = yaml.safe_load(updated) or {}
    if not isinstance(data, dict) or file_name in (data.get("issues") or {}):
        data = yaml.safe_load(original) or {}
        (data.get("issues") or {}).pop(file_name, None)
        updated = yaml.safe_dump(data, allow_unicode=True, sort_keys=True)
    write_atomically(path, updated.encode("utf-8"))


def _edited_manifest(text: str, file_name: str, entry: dict[str, str]) -> str | None:
    """The manifest text with the entry's line replaced or appended under `issues:`; None if unsure."""
    flow = yaml.safe_dump({file_name: entry}, allow_unicode=True, default_flow_style=True, width=10**6).strip()
    # safe_dump wraps the mapping in braces: '{name: {street: ...}}' -> 'name: {street: ...}'.
    line = flow[1:-1] if flow.startswith("{") and flow.endswith("}") else flow
    if not text.strip():
        return f"issues:\n  {line}\n"
    lines = text.splitlines()
    try:
        start = next(i for i, ln in enumerate(lines) if ln.rstrip() == "issues:")
    except StopIteration:
        return text.rstrip("\n") + f"\nissues:\n  {line}\n"
    end = start + 1
    key = yaml.safe_dump(file_name, allow_unicode=True).split("\n")[0]
    while end < len(lines) and (not lines[end].strip() or lines[end][:1] in (" ", "#")):
        stripped = lines[end].strip()
        if stripped.startswith((f"{key}:", f"{file_name}:")):
            indent = lines[end][: len(lines[end]) - len(lines[end].lstrip())]
            lines[end] = indent + line
            return "\n".join(lines) + "\n"
        end += 1
    last = end
    while last > start + 1 and not lines[last - 1].strip():
        last -= 1
    lines.insert(last, "  " + line)
    return "\n".join(lines) + "\n"
