"""Toneless pinyin of Chinese characters and words, from tables made once from pypinyin.

The homophone-typo path (index.tolerance) needs three things of pypinyin: each character's
usual reading, the readings of the common characters (heteronyms included), and a word's
reading as a whole (银行 is yin hang, not yin xing). pypinyin holds its phrase dictionary and
prefix set as Python objects, about 56 MB in every serving process, more than a 68k-article
index's own tables. The same answers come from two small files shipped in `index/data`, made
from pypinyin by `write_tables` (its version is recorded; the tests remake them from the
installed pypinyin and compare):

    pinyin_chars.tsv     character, usual reading, all readings (comma-separated)
    pinyin_phrases.tsv   each phrase of pypinyin's dictionary; with its reading when that is
                         not its characters' usual readings one after another

A word's reading is pypinyin's: the word is cut into phrases by forward maximum matching
over the phrase dictionary, pypinyin's strict mode (`pypinyin.seg.mmseg`), and each phrase
reads as the dictionary says, each other character as it usually does. Loaded on first use
(about 10 MB).
"""

from __future__ import annotations

import threading
from dataclasses import dataclass
from importlib import resources
from pathlib import Path

CHARS_FILE = "pinyin_chars.tsv"
PHRASES_FILE = "pinyin_phrases.tsv"
# The characters pypinyin knows readings of that matter here (CJK, extension A included).
_RANGES = ((0x3400, 0x4DBF), (0x4E00, 0x9FFF))


@dataclass(frozen=True)
class PinyinTables:
    """The loaded tables."""

    usual: dict[str, str]
    readings: dict[str, tuple[str, ...]]
    phrases: frozenset[str]
    prefixes: frozenset[str]
    phrase_readings: dict[str, tuple[str, ...]]

    def char_reading(self, char: str) -> str:
        """A character's usual toneless reading (pypinyin's lazy_pinyin of it; itself if none)."""
        return self.usual.get(char, char)

    def word_reading(self, word: str) -> list[str]:
        """The toneless reading of a word of Chinese characters, as pypinyin's lazy_pinyin gives it."""
        out: list[str] = []
        for piece in self._phrases_of(word):
            stored = self.phrase_readings.get(piece)
            out.extend(stored if stored is not None else (self.char_reading(ch) for ch in piece))
        return out

    def _phrases_of(self, text: str) -> list[str]:
        # pypinyin's Seg.cut with no_non_phrases=True, step for step.
        pieces: list[str] = []
        remain = text
        while remain:
            last_valid = ""
            for index in range(len(remain)):
                word = remain[: index + 1]
                if word not in self.prefixes:
                    break
                if word in self.phrases:
                    last_valid = word
            else:
                if last_valid:
                    pieces.append(last_valid)
                    remain = remain[len(last_valid) :]
                elif remain in self.phrases:
                    pieces.append(remain)
                    break
                else:
                    pieces.extend(remain)
                    break
                continue
            if last_valid:
                pieces.append(last_valid)
                remain = remain[len(last_valid) :]
            else:
                pieces.append(remain[0])
                remain = remain[1:]
        return pieces


_lock = threading.Lock()
_tables: PinyinTables | None = None


def _data(name: str) -> str:
    return resources.files("index").joinpath("data", name).read_text(encoding="utf-8")


def _rows(text: str) -> list[list[str]]:
    return [line.split("\t") for line in text.splitlines() if line and not line.startswith("#")]


def tables() -> PinyinTables:
    """The shipped tables, loaded once."""
    global _tables
    with _lock:
        if _tables is None:
            usual: dict[str, str] = {}
            readings: dict[str, tuple[str, ...]] = {}
            for char, reading, alternatives in _rows(_data(CHARS_FILE)):
                usual[char] = reading
                readings[char] = tuple(alternatives.split(","))
            phrases: set[str] = set()
            phrase_readings: dict[str, tuple[str, ...]] = {}
            for row in _rows(_data(PHRASES_FILE)):
                phrases.add(row[0])
                if len(row) > 1:
                    phrase_readings[row[0]] = tuple(row[1].split(" "))
            prefixes = {phrase[:n] for phrase in phrases for n in range(1, len(phrase) + 1)}
            _tables = PinyinTables(usual, readings, frozenset(phrases), frozenset(prefixes), phrase_readings)
        return _tables


def write_tables(directory: Path | None = None) -> list[Path]:
    """Make the two files from the installed pypinyin (into `index/data` unless told otherwise)."""
    import pypinyin
    from pypinyin import Style, lazy_pinyin, pinyin
    from pypinyin.constants import PHRASES_DICT

    target = directory or Path(str(resources.files("index").joinpath("data")))
    header = f"# made from pypinyin {pypinyin.__version__} (MIT) by index.pinyin_tables.write_tables\n"
    chars = [chr(code) for first, last in _RANGES for code in range(first, last + 1)]
    usual = {char: lazy_pinyin(char, style=Style.NORMAL)[0] for char in chars}
    char_lines = []
    for char in chars:
        if usual[char] == char:
            continue  # pypinyin has no reading for it
        alternatives = dict.fromkeys(pinyin(char, style=Style.NORMAL, heteronym=True)[0])
        char_lines.append(f"{char}\t{usual[char]}\t{','.join(alternatives)}\n")
    phrase_lines = []
    for phrase in sorted(PHRASES_DICT):
        reading = lazy_pinyin(phrase, style=Style.NORMAL)
        if reading == [usual.get(ch, ch) for ch in phrase]:
            phrase_lines.append(f"{phrase}\n")
        else:
            phrase_lines.append(f"{phrase}\t{' '.join(reading)}\n")
    written = []
    for name, lines in ((CHARS_FILE, char_lines), (PHRASES_FILE, phrase_lines)):
        path = target / name
        path.write_text(header + "".join(lines), encoding="utf-8")
        written.append(path)
    return written
