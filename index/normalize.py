"""Text normalisation shared by parsing, indexing and querying.

Two different needs live here: *matching* text (width-folded, lower-cased, traditional
characters converted to simplified for queries) and *display* text (the newspaper's own
characters, with ASCII punctuation between Chinese characters turned full width so that
paragraphs read evenly on a phone).
"""

from __future__ import annotations

import re
import unicodedata
from functools import lru_cache

_CJK = r"\u3400-\u4dbf\u4e00-\u9fff\uf900-\ufaff"
_CJK_RE = re.compile(f"[{_CJK}]")
_HALF_TO_FULL = {",": "，", ";": "；", ":": "：", "!": "！", "?": "？"}
# ASCII punctuation directly after a Chinese character (or closing quote) is the PDF
# extractor's doing, not the editor's: render it full width.
_HALF_PUNCT_RE = re.compile(f"(?<=[{_CJK}”’）)》」』])([,;:!?])(?!\\d)")
_SPACES_RE = re.compile(r"[ \t\u3000\xa0]+")
# Emoji, pictographs, variation selectors and joiners carry no searchable meaning.
_SYMBOLS_RE = re.compile("[\U0001f000-\U0001faff\U00002600-\U000027bf\U0001f900-\U0001f9ff\ufe0f\u200d\u20e3]")


def has_cjk(text: str) -> bool:
    """True when the text contains at least one Chinese character."""
    return _CJK_RE.search(text) is not None


def is_cjk_char(ch: str) -> bool:
    """True for a single Chinese character."""
    return _CJK_RE.fullmatch(ch) is not None


def for_display(text: str) -> str:
    """The text as residents should read it: full-width punctuation after Chinese, tidy spaces."""
    text = unicodedata.normalize("NFC", text)
    text = _HALF_PUNCT_RE.sub(lambda m: _HALF_TO_FULL[m.group(1)], text)
    text = _SPACES_RE.sub(" ", text)
    return text.strip()


def for_matching(text: str) -> str:
    """Width-folded, lower-cased text used for tokenizing documents and queries."""
    text = unicodedata.normalize("NFKC", text)
    return text.lower()


@lru_cache(maxsize=1)
def _t2s():  # type: ignore[no-untyped-def]
    try:
        import opencc
    except ImportError:  # pragma: no cover - opencc is a declared dependency
        return None
    return opencc.OpenCC("t2s")


def to_simplified(text: str) -> str:
    """Traditional Chinese converted to simplified (queries from Hong Kong/Taiwan keyboards)."""
    converter = _t2s()
    if converter is None or not has_cjk(text):
        return text
    result: str = converter.convert(text)
    return result


def strip_symbols(text: str) -> str:
    """Text without emoji and pictographs."""
    return _SYMBOLS_RE.sub("", text)


def normalize_query(text: str) -> str:
    """A resident's question prepared for tokenizing."""
    return for_matching(to_simplified(strip_symbols(text))).strip()
