"""Forgiving questions: homophone typos (社区义珍 → 社区义诊) and everyday words for official ones
(饭店 → 餐饮企业).

Homophones: residents type with pinyin input methods, so a wrong character usually sounds like
the right one. A question word no article was segmented into is tried as the index words of the
same length and the same toneless pinyin that keep at least half of its characters; the most
frequent such word replaces it and the answer says "您是不是要找：…". Nothing is built over the
index vocabulary: the candidates are generated from a syllable → characters table of the 6,763
common (GB2312) characters and looked up in the vocabulary, so the cost does not grow with the
index and the table takes well under a megabyte.

Everyday words: `index/data/everyday_words.txt` (see its header) groups the words residents say
with the words the papers print; a question's everyday word is also searched as the papers' words.
"""

from __future__ import annotations

import logging
import re
import threading
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources

from index.normalize import is_cjk_char
from index.pinyin_tables import tables as pinyin_tables

log = logging.getLogger(__name__)

# The longest question word tried as a homophone, and how many spellings are tried at most (the
# spellings that keep the typed characters come first, so a late typo in a long word is still found).
MAX_TYPO_CHARS = 6
MAX_CANDIDATES = 5_000
# An everyday word's official partners count this much of the resident's own word in the ranking.
EXPANSION_WEIGHT = 0.5

# Asking words are no typos of content words (哪艘 is not 那艘).
_ASKING_RE = re.compile(r"哪|什么|怎|吗|呢|啥|谁|几|多少|为何|何时|何地|如何")

_table_lock = threading.Lock()
_table: tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]] | None = None


def _syllable_tables() -> tuple[dict[str, tuple[str, ...]], dict[str, tuple[str, ...]]]:
    """(character → its toneless readings, reading → the common characters with it), made once."""
    global _table
    with _table_lock:
        if _table is None:
            known = pinyin_tables().readings
            readings: dict[str, tuple[str, ...]] = {}
            by_sound: dict[str, list[str]] = {}
            for code in range(0x4E00, 0xA000):
                char = chr(code)
                try:
                    char.encode("gb2312")
                except UnicodeEncodeError:
                    continue
                sounds = known.get(char, (char,))
                readings[char] = sounds
                for sound in sounds:
                    by_sound.setdefault(sound, []).append(char)
            _table = readings, {sound: tuple(chars) for sound, chars in by_sound.items()}
        return _table


def prepare() -> None:
    """Make what the first homophone look-up would otherwise make while a resident waits: the
    pinyin tables and the syllable table."""
    _syllable_tables()


def homophones(word: str, known: Callable[[str], bool], prefix: Callable[[str], bool] | None = None) -> list[str]:
    """The words `known` accepts that sound like `word` (same length, same toneless pinyin) and
    keep at least half of its characters, sorted.

    `prefix` (whether some word `known` accepts starts with a text: the index's vocabulary
    answers it from its sorted terms) prunes the spellings tried: without it a six-character
    word has millions of them, and a spelling no known word starts with can find nothing.
    """
    if not 2 <= len(word) <= MAX_TYPO_CHARS or not all(is_cjk_char(ch) for ch in word):
        return []
    _, by_sound = _syllable_tables()
    pinyin = pinyin_tables()
    # The typed character's usual sound (食 is shí, not its rare yì); the candidates' sounds are
    # checked as whole words below, so 银行 is yín háng, not yín xíng.
    sounds = [pinyin.char_reading(char) for char in word]
    alternatives = [[c for c in by_sound.get(sound, ()) if c != char] for char, sound in zip(word, sounds, strict=True)]
    most_changes = len(word) // 2
    found: set[str] = set()
    tried = 0

    def extend(spelled: str, changes: int) -> None:
        nonlocal tried
        position = len(spelled)
        if position == len(word):
            if changes and known(spelled) and pinyin.word_reading(spelled) == sounds:
                found.add(spelled)
            return
        options = [word[position]] + (alternatives[position] if changes < most_changes else [])
        for char in options:
            tried += 1
            if tried > MAX_CANDIDATES:
                return
            longer = spelled + char
            if prefix is not None and len(longer) < len(word) and not prefix(longer):
                continue
            extend(longer, changes + (char != word[position]))

    extend("", 0)
    return sorted(found)


def read_word_groups(text: str) -> list[tuple[list[str], list[str]]]:
    """(everyday words, official words) of each line of an everyday-words file."""
    groups = []
    for number, line in enumerate(text.splitlines(), start=1):
        line = line.split("#", 1)[0].strip()
        if not line:
            continue
        everyday, sep, official = line.partition("=")
        if not sep or not everyday.split() or not official.split():
            log.warning("everyday words line %d is not 'words = words': %r", number, line)
            continue
        groups.append((everyday.split(), official.split()))
    return groups


@lru_cache(maxsize=1)
def default_alternatives() -> dict[str, tuple[str, ...]]:
    """Each word of the shipped everyday-words list and the other words of its group(s)."""
    text = resources.files("index").joinpath("data", "everyday_words.txt").read_text(encoding="utf-8")
    return alternatives_from_groups(read_word_groups(text))


def alternatives_from_groups(groups: Iterable[tuple[list[str], list[str]]]) -> dict[str, tuple[str, ...]]:
    """Everyday word → the papers' words for it.

    One way only: a question in the papers' own words (垃圾分类) is already precise, and widening
    it to the everyday words (垃圾) would only let in articles that merely mention them.
    """
    out: dict[str, dict[str, None]] = {}
    for everyday, official in groups:
        for word in everyday:
            out.setdefault(word, {}).update(dict.fromkeys(w for w in official if w != word))
    return {word: tuple(others) for word, others in out.items() if others}


@dataclass
class Correction:
    """Question words replaced by index words that sound the same."""

    replaced: dict[str, str] = field(default_factory=dict)

    def apply(self, text: str) -> str:
        """The text with the replacements made."""
        for wrong, right in self.replaced.items():
            text = text.replace(wrong, right)
        return text


def correct_typos(
    words: Iterable[tuple[str, list[str]]],
    known: Callable[[str], bool],
    frequency: Callable[[str], int],
    prefix: Callable[[str], bool] | None = None,
) -> Correction:
    """Homophone corrections for the question words (`Tokenizer.query_words`) nothing in the index matches.

    A word counts as unknown when neither it nor any word inside it is `known`; a run of
    single characters (how the segmenter leaves an unknown word it cannot read) is tried joined.
    Of several homophones the most frequent (`frequency`, the number of articles) wins.
    """
    correction = Correction()
    run: list[str] = []

    def try_word(word: str) -> None:
        if word in correction.replaced or known(word) or _ASKING_RE.search(word):
            return
        found = homophones(word, known, prefix)
        if found:
            correction.replaced[word] = max(found, key=lambda w: (frequency(w), w))

    for word, pieces in [*words, ("", [])]:
        if len(word) == 1 and is_cjk_char(word):
            run.append(word)
            continue
        if len(run) >= 2:
            try_word("".join(run))
        run = []
        if word and not known(word) and not any(known(p) for p in pieces):
            try_word(word)
    return correction


# A corrected question replaces one that found something only when it covers all of itself.
FULL_COVERAGE = 0.999


def prefer_corrected(original: list[tuple[int, float, float]], corrected: list[tuple[int, float, float]]) -> bool:
    """Whether the typo-corrected question's best (document, score, coverage) replaces the question's own.

    Taken when the question found nothing, or when the corrected one is answered in full and
    scores higher: a name the index never saw (段刘愚) must not be "corrected" to a common one
    because that common word adds a little score somewhere.
    """
    if not corrected:
        return False
    if not original:
        return True
    return corrected[0][2] >= FULL_COVERAGE and corrected[0][1] > original[0][1]


def alternatives_for(tokens: Iterable[str], table: Mapping[str, tuple[str, ...]] | None = None) -> dict[str, list[str]]:
    """Question token → its everyday/official alternatives (tokens without any are left out)."""
    table = default_alternatives() if table is None else table
    out: dict[str, list[str]] = {}
    for token in tokens:
        others = [w for w in table.get(token, ()) if w != token]
        if others:
            out[token] = others
    return out
