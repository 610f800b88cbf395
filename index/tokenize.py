"""Turning documents and questions into search tokens with jieba's segmentation.

Documents and queries go through the same steps: width folding, jieba's search-mode
segmentation (whole words plus the shorter dictionary words inside them, so a resident who
types part of a name still matches), a user dictionary of local names, and removal of stop
words. Queries also drop question words and emoji and are converted to simplified Chinese.
"""

from __future__ import annotations

import hashlib
import logging
import re
from collections.abc import Iterable
from functools import lru_cache
from importlib import resources
from itertools import chain
from pathlib import Path

from index.normalize import for_matching, normalize_query
from index.segmenter import make_segmenter

log = logging.getLogger(__name__)

TOKENIZER_VERSION = "4"
_TOKEN_RE = re.compile(r"[\w\u3400-\u4dbf\u4e00-\u9fff]")
_QUOTED_RE = re.compile(r"[“\"「『]([\u4e00-\u9fff]{2,8})[”\"」』]")
_ADMIN_SUFFIX_RE = re.compile(r"^(.{2,6}?)(街道|镇|区|路)$")
# Distinct words whose tokens a Tokenizer remembers (about 30 MB at most).
WORD_CACHE_SIZE = 200_000


def _read_word_file(name: str) -> list[str]:
    text = resources.files("index").joinpath("data", name).read_text(encoding="utf-8")
    words: list[str] = []
    for line in text.splitlines():
        line = line.strip()
        if line and not line.startswith("#"):
            words.extend(line.split())
    return words


def default_stopwords() -> frozenset[str]:
    """The shipped list of function words and question words."""
    return frozenset(_read_word_file("stopwords.txt"))


@lru_cache(maxsize=1)
def default_query_fillers() -> frozenset[str]:
    """The shipped list of words dropped from questions only (asking, greetings, chit-chat)."""
    return frozenset(_read_word_file("query_fillers.txt"))


def default_local_names() -> list[str]:
    """The shipped list of local names (streets, districts, organisations)."""
    return _read_word_file("local_names.txt")


def names_from_text(text: str) -> set[str]:
    """Short quoted names in an issue's text, e.g. “芷心工作坊”, worth keeping whole."""
    return {m.group(1) for m in _QUOTED_RE.finditer(text)}


def names_from_street(street: str) -> set[str]:
    """A street's name and its short forms: 芷江西路街道 → 芷江西路街道, 芷江西路."""
    names = {street} if street else set()
    match = _ADMIN_SUFFIX_RE.match(street)
    if match:
        names.add(match.group(1))
        if street.endswith("街道"):
            names.add(street[:-2])
    return {n for n in names if len(n) >= 2}


class Tokenizer:
    """Segmentation with our user dictionary and stop words; safe to share between threads.

    `segmenter` is "auto" (rjieba when installed, else jieba), "rjieba" or "jieba".
    """

    def __init__(
        self,
        user_words: Iterable[str] = (),
        stopwords: frozenset[str] | None = None,
        segmenter: str = "auto",
    ) -> None:
        self.user_words = sorted({w.strip() for w in user_words if w and w.strip()})
        self.stopwords = default_stopwords() if stopwords is None else stopwords
        self._segmenter = make_segmenter(segmenter)
        self._segmenter.add_words(self.user_words)
        self._word_cache: dict[str, tuple[str, ...]] = {}
        self.word_cache_size = WORD_CACHE_SIZE

    @property
    def signature(self) -> str:
        """Identifies everything that changes how text is tokenized."""
        digest = hashlib.sha1(f"{TOKENIZER_VERSION} {self.segmenter}".encode())
        digest.update("\n".join(self.user_words).encode())
        digest.update("\n".join(sorted(self.stopwords)).encode())
        return digest.hexdigest()[:16]

    @property
    def segmenter(self) -> str:
        """The segmenter's name ("rjieba" or "jieba"), recorded in the index."""
        return self._segmenter.name

    def initialize(self) -> None:
        """Load the segmenter's dictionary now rather than on the first question."""
        self._segmenter.initialize()

    def add_words(self, words: Iterable[str]) -> None:
        """Teach the segmenter more local names (a newly published issue's)."""
        fresh = sorted({w for w in words if w and w not in self.user_words})
        if not fresh:
            return
        self.user_words = sorted(set(self.user_words) | set(fresh))
        self._segmenter.add_words(fresh)
        # New dictionaries rather than clear(): a cut already running with the old words
        # can only write into the old ones.
        self._word_cache = {}

    def _word_tokens(self, word: str) -> tuple[str, ...]:
        """The tokens one segmented word gives: every dictionary word inside it, then itself.

        jieba's own search mode only looks inside a word for 2- and 3-character words, so
        芷江西路街道 would never yield 芷江西路 and a question naming the road would miss it.
        Stop words, spaces and punctuation give nothing.
        """
        pieces = self._segmenter.pieces(word)
        if len(word) > 2:  # shorter words hold no shorter word worth a token
            has_word = self._segmenter.has_word
            found: list[str] = []
            for piece in pieces:
                if len(piece) > 2:
                    for size in range(2, len(piece)):
                        for start in range(len(piece) - size + 1):
                            gram = piece[start : start + size]
                            if has_word(gram):
                                found.append(gram)
                found.append(piece)
            pieces = found
        stopwords = self.stopwords
        return tuple(t for t in map(str.strip, pieces) if t and t not in stopwords and _TOKEN_RE.search(t))

    def _tokens_of(self, word: str, cache: dict[str, tuple[str, ...]]) -> tuple[str, ...]:
        # Words recur far more than texts do: a word's tokens are worked out once and
        # remembered (bounded), which is most of what segmenting costs after rjieba's cut.
        found = self._word_tokens(word)
        if len(cache) >= self.word_cache_size:
            cache.clear()
        cache[word] = found
        return found

    def _segment(self, text: str) -> list[str]:
        return list(chain.from_iterable(self.tokens_of_words(self._segmenter.cut(text))))

    def document_tokens(self, text: str) -> list[str]:
        """Tokens of article text, in order, duplicates kept (they are term frequencies)."""
        return self._segment(for_matching(text))

    def weighted_words(self, parts: Iterable[tuple[str, int]]) -> list[str]:
        """The segmented words of folded texts in order, each text's repeated `weight` times
        (`tokens_of_words` gives each one's tokens)."""
        cut = self._segmenter.cut
        return list(chain.from_iterable(cut(text) * weight for text, weight in parts))

    def tokens_of_words(self, words: list[str]) -> list[tuple[str, ...]]:
        """The search tokens of each segmented word (remembered: words recur far more than texts)."""
        cache = self._word_cache
        found = list(map(cache.get, words))
        if None in found:
            for position, tokens in enumerate(found):
                if tokens is None:
                    found[position] = self._tokens_of(words[position], cache)
        return found  # type: ignore[return-value]  # no None is left

    def query_tokens(self, question: str) -> list[str]:
        """Tokens of a resident's question, question words and emoji removed."""
        return self._segment(normalize_query(question))

    def query_words(self, question: str) -> list[tuple[str, list[str]]]:
        """The question's words (precise segmentation) each with the shorter words inside it.

        Searching with whole words keeps a long name from counting once per piece of it
        (天山路街道 is one word, not 天山 + 山路 + 天山路 + 天山路街道); the pieces are
        the fallback for a word that no article was segmented into.
        """
        words: list[tuple[str, list[str]]] = []
        cut = self._segmenter.cut(normalize_query(question))
        for word in (piece for part in cut for piece in self._segmenter.pieces(part)):
            word = word.strip()
            if not word or not _TOKEN_RE.search(word) or word in self.stopwords:
                continue
            pieces = [t for t in self._segment(word) if t != word] if len(word) > 2 else []
            words.append((word, pieces))
        return words

    # --- passages (snippets) ------------------------------------------------------------

    def words(self, text: str) -> list[str]:
        """The text cut into words (precise mode, our dictionary); they join back to the text."""
        return [piece for word in self._segmenter.cut(text) for piece in self._segmenter.pieces(word)]

    def is_word(self, word: str) -> bool:
        """Whether the word is in the dictionary (jieba's or our local names)."""
        return self._segmenter.has_word(word)


def build_user_words(streets: Iterable[str], texts: Iterable[str], extra_file: Path | None = None) -> list[str]:
    """The user dictionary for a corpus: shipped names, its streets, quoted names in its issues."""
    words = set(default_local_names())
    for street in streets:
        words |= names_from_street(street)
    for text in texts:
        words |= names_from_text(text)
    if extra_file is not None and extra_file.exists():
        words |= {
            line.strip()
            for line in extra_file.read_text(encoding="utf-8").splitlines()
            if line.strip() and not line.startswith("#")
        }
    return sorted(words)
