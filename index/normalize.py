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
# (The mark is matched first and the character before it looked behind for: far faster than
# trying the look-behind at every position of the text.)
_HALF_PUNCT_RE = re.compile(f"([,;:!?])(?<=[{_CJK}”’）)》」』][,;:!?])(?!\\d)")
_SPACES_RE = re.compile(r"[ \t\u3000\xa0]+")
# A text without these has only single plain spaces, which _SPACES_RE leaves as they are.
_NOT_ONE_SPACE = ("\t", "\u3000", "\xa0", "  ")
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
    # Each pattern only where it can match: a substring test is far faster than the regex's scan,
    # and every article of an archive is read through here.
    if any(mark in text for mark in _HALF_TO_FULL):
        text = _HALF_PUNCT_RE.sub(lambda m: _HALF_TO_FULL[m.group(1)], text)
    if any(space in text for space in _NOT_ONE_SPACE):
        text = _SPACES_RE.sub(" ", text)
    return text.strip()


def for_matching(text: str) -> str:
    """Width-folded, lower-cased text used for tokenizing documents and queries."""
    outside, changed, table = _simple_nfkc()
    if outside.search(text) is None:
        return changed.sub(lambda m: table[m.group()], text).lower()
    return unicodedata.normalize("NFKC", text).lower()


# Blocks of what Chinese news is written in: ASCII, Latin-1, punctuation, symbols, kana, CJK.
_SIMPLE_BLOCKS = (
    (0x20, 0x7E),
    (0xA0, 0xFF),
    (0x2000, 0x206F),
    (0x2100, 0x27BF),
    (0x3000, 0x303F),
    (0x3041, 0x30FF),
    (0x3200, 0x33FF),
    (0x3400, 0x4DBF),
    (0x4E00, 0x9FFF),
    (0xFF01, 0xFF60),
    (0xFFE0, 0xFFEE),
)


@lru_cache(maxsize=1)
def _simple_nfkc() -> tuple[re.Pattern[str], re.Pattern[str], dict[str, str]]:
    """(a pattern finding any character outside the simple set, one finding the simple characters
    NFKC changes, and what it changes each to).

    A character is simple when its NFKC form has no combining mark and is made of characters
    that are their own NFKC form and compose with nothing. A text of simple characters only is
    then NFKC-normalized character by character, the same result as
    unicodedata's whole-text normalization at a fraction of its cost: every article is folded
    when it is indexed. Anything else (combining marks, halfwidth kana, Hangul, ...) goes the
    whole-text way.
    """
    basic = {chr(c) for first, last in _SIMPLE_BLOCKS for c in range(first, last + 1)} | {"\t", "\n", "\r"}
    stable = {c for c in basic if unicodedata.normalize("NFKC", c) == c and not unicodedata.combining(c)}
    table: dict[str, str] = {}
    simple: list[int] = []
    for char in sorted(basic):
        folded = unicodedata.normalize("NFKC", char)
        if all(part in stable for part in folded):
            simple.append(ord(char))
            if folded != char:
                table[char] = folded
    ranges: list[tuple[int, int]] = []
    for code in simple:
        if ranges and ranges[-1][1] == code - 1:
            ranges[-1] = (ranges[-1][0], code)
        else:
            ranges.append((code, code))
    members = "".join(re.escape(chr(a)) if a == b else f"{re.escape(chr(a))}-{re.escape(chr(b))}" for a, b in ranges)
    changed = "".join(re.escape(char) for char in table)
    return re.compile(f"[^{members}]"), re.compile(f"[{changed}]"), table


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
