"""Whether the index on disk still matches the corpus and the settings, and if not, why."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path
from typing import Any

from index.corpus import corpus_fingerprint
from index.index_files import FORMAT_VERSION, META
from index.indexed_text import shipped_words_signature
from index.segmenter import resolve as resolve_segmenter
from index.settings import IndexParams


def index_is_current(index_dir: Path, corpus_dir: Path, params: IndexParams) -> tuple[bool, str]:
    """(True, "") when the index matches the corpus and settings, else (False, why)."""
    try:
        meta = json.loads((index_dir / META).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return False, "no index yet"
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False, "index metadata is damaged"
    why = settings_changed(meta, params)
    if why:
        return False, why
    if meta.get("corpus", {}).get("fingerprint") != corpus_fingerprint(corpus_dir):
        return False, "corpus changed"
    return True, ""


def settings_changed(meta: Any, params: IndexParams) -> str:
    """Why an index with this metadata was built otherwise than `params` and this program ask ("" if not)."""
    if not isinstance(meta, dict) or meta.get("format_version") != FORMAT_VERSION:
        return "index was written by another version"
    try:
        segmenter = resolve_segmenter(params.segmenter)
    except ValueError as exc:
        return str(exc)
    if meta.get("segmenter") != segmenter:
        return f"segmenter changed ({meta.get('segmenter')} → {segmenter})"
    if meta.get("params") != asdict(params):
        return "index settings changed"
    if meta.get("shipped") != shipped_words_signature():
        return "word lists or text layout changed"
    return ""
