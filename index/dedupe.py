"""Recognising an issue that is already in the corpus, whatever its whitespace and punctuation width.

Staff re-export and re-save issues: the same text comes back with other line breaks, trailing
blank lines, full-width instead of half-width punctuation, or as a PDF of a text already published.
Comparing a normalised form (NFKC, no whitespace) finds those; a genuinely edited issue differs.
"""

from __future__ import annotations

import hashlib
import logging
import re
import unicodedata
from pathlib import Path

from index.text_decoding import decode_text

log = logging.getLogger(__name__)

_SPACE_RE = re.compile(r"\s+")


def content_key(text: str) -> str:
    """A digest of the text with widths folded (NFKC) and every kind of whitespace removed."""
    folded = unicodedata.normalize("NFKC", text)
    return hashlib.sha1(_SPACE_RE.sub("", folded).encode("utf-8")).hexdigest()


def duplicate_in(corpus_dir: Path, text: str) -> str | None:
    """The corpus text file that holds the same issue as `text`, if any."""
    if not corpus_dir.is_dir():
        return None
    key = content_key(text)
    for path in sorted(corpus_dir.glob("*.txt")):
        if path.name.startswith("."):
            continue
        try:
            if content_key(decode_text(path.read_bytes())) == key:
                return path.name
        except (OSError, ValueError):
            continue
    return None
