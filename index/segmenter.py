"""The word segmenters behind the tokenizer: rjieba (jieba-rs) when installed, jieba otherwise.

rjieba gives the same Chinese words as jieba (same dictionary, same DAG and HMM) about 25
times faster; it differs only in keeping some number and Latin runs whole (``600519.SH``
where jieba gives ``600519`` ``.`` ``SH``). `pieces` cuts those runs as jieba does, so the
tokenizer's tokens are jieba's exactly (every token of 3,000 bench articles) and switching
changes no ranking. jieba stays the reference the tests compare against and the fallback
where rjieba has no wheel. Which one built an index is still recorded in it, so switching
rebuilds rather than trusting that.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Iterable
from typing import TYPE_CHECKING, Protocol

if TYPE_CHECKING:
    import rjieba

import jieba

log = logging.getLogger(__name__)
jieba.setLogLevel(logging.WARNING)

SEGMENTERS = ("rjieba", "jieba")
# How jieba's HMM cuts a run without Chinese (jieba.finalseg's re_skip); jieba-rs keeps it whole.
_JIEBA_RUN = re.compile(r"([a-zA-Z0-9]+(?:\.\d+)?%?)")
_CJK = re.compile(r"[\u4e00-\u9fff]")
# A frequency high enough that a local name wins over splits of it.
USER_WORD_FREQ = 2000


class Segmenter(Protocol):
    """What the tokenizer needs of a segmenter."""

    name: str

    def initialize(self) -> None:
        """Load the dictionary now rather than on the first text."""

    def cut(self, text: str) -> list[str]:
        """jieba's precise mode with the HMM for unknown words."""

    def has_word(self, word: str) -> bool:
        """Whether the dictionary holds the word with a frequency above zero."""

    def pieces(self, word: str) -> list[str]:
        """A word `cut` gave, as jieba would have cut it (itself, nearly always)."""

    def add_words(self, words: Iterable[str]) -> None:
        """Teach user words, each kept whole against splits of it."""


class JiebaSegmenter:
    """The Python jieba, the reference."""

    name = "jieba"

    def __init__(self) -> None:
        self._jieba = jieba.Tokenizer()
        self._lock = threading.Lock()
        self._initialized = False
        self._pending: list[str] = []

    def initialize(self) -> None:
        with self._lock:
            if self._initialized:
                return
            self._jieba.initialize()
            self._initialized = True
            words, self._pending = self._pending, []
        self.add_words(words)

    def cut(self, text: str) -> list[str]:
        self.initialize()
        return list(self._jieba.cut(text))

    def has_word(self, word: str) -> bool:
        self.initialize()
        return bool(self._jieba.FREQ.get(word))

    def pieces(self, word: str) -> list[str]:
        return [word]

    def add_words(self, words: Iterable[str]) -> None:
        with self._lock:
            if not self._initialized:
                self._pending.extend(words)
                return
        for word in words:
            self._jieba.add_word(word, freq=max(self._jieba.suggest_freq(word), USER_WORD_FREQ))


class RjiebaSegmenter:
    """jieba-rs through rjieba: the same words, at native speed."""

    name = "rjieba"

    def __init__(self) -> None:
        import rjieba

        self._module = rjieba
        self._lock = threading.Lock()
        self._words: list[str] = []
        self._jieba: rjieba.Jieba | None = None

    def _fresh(self, words: list[str]) -> rjieba.Jieba:
        engine = self._module.Jieba()
        for word in words:
            engine.add_word(word, max(engine.suggest_freq(word), USER_WORD_FREQ), None)
        return engine

    def initialize(self) -> None:
        if self._jieba is None:
            with self._lock:
                if self._jieba is None:
                    self._jieba = self._fresh(self._words)

    def _engine(self) -> rjieba.Jieba:
        if self._jieba is None:
            self.initialize()
        engine = self._jieba
        assert engine is not None
        return engine

    def cut(self, text: str) -> list[str]:
        result: list[str] = self._engine().cut(text, True)
        return result

    def has_word(self, word: str) -> bool:
        return bool(self._engine().has_word(word))

    def pieces(self, word: str) -> list[str]:
        if len(word) < 2 or _CJK.search(word):
            return [word]
        return [piece for piece in _JIEBA_RUN.split(word) if piece]

    def add_words(self, words: Iterable[str]) -> None:
        # rjieba refuses to change a dictionary another thread is cutting with ("Already
        # borrowed"), so new words go into a fresh copy (about 80 ms) that replaces it whole.
        with self._lock:
            self._words.extend(words)
            if self._jieba is not None:
                self._jieba = self._fresh(self._words)


def available_segmenters() -> list[str]:
    """The segmenters this installation can run, fastest first."""
    names = []
    try:
        import rjieba  # noqa: F401

        names.append("rjieba")
    except ImportError:
        pass
    names.append("jieba")
    return names


def resolve(name: str) -> str:
    """The segmenter a setting means: "auto" is the fastest installed one."""
    if name == "auto":
        return available_segmenters()[0]
    if name not in SEGMENTERS:
        raise ValueError(f"unknown segmenter {name!r}; choose one of auto, {', '.join(SEGMENTERS)}")
    if name not in available_segmenters():
        raise ValueError(f"segmenter {name!r} is not installed")
    return name


def make_segmenter(name: str = "auto") -> Segmenter:
    """A new segmenter by name ("auto", "rjieba" or "jieba")."""
    resolved = resolve(name)
    if resolved == "rjieba":
        return RjiebaSegmenter()
    return JiebaSegmenter()
