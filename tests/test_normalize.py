"""Folding text for matching: the character-by-character NFKC fast path against unicodedata's."""

from __future__ import annotations

import random
import unicodedata

from corpora import CORPUS

from index.normalize import _SIMPLE_BLOCKS, for_display, for_matching


def reference(text: str) -> str:
    return unicodedata.normalize("NFKC", text).lower()


def test_folding_equals_unicodedata_on_random_text_of_every_block() -> None:
    # Characters that compose or decompose with their neighbours ride along, so both paths run.
    tricky = ["e", "\u0301", "\u3099", "\uff76", "\uff9e", "\u1100", "\u1161", "\u00a8", "\ufb01", "\t", "\n"]
    alphabet = [chr(c) for first, last in _SIMPLE_BLOCKS for c in range(first, last + 1)] + tricky
    rng = random.Random(7)
    for _ in range(50_000):
        text = "".join(rng.choice(alphabet) for _ in range(rng.randint(1, 8)))
        assert for_matching(text) == reference(text), repr(text)


def test_folding_equals_unicodedata_on_real_issues() -> None:
    texts = [path.read_text(encoding="utf-8") for path in sorted(CORPUS.glob("*.txt"))]
    assert texts
    for text in texts:
        assert for_matching(text) == reference(text)
    assert for_matching("Ｆｕｌｌ－ｗｉｄｔｈ　ＡＢＣ１２３，ＯＫ？ｶﾞ") == "full-width abc123,ok?ガ"


def test_half_width_punctuation_after_chinese_turns_full_width() -> None:
    # Not before a digit (a number's own comma, 中,1) nor after a Latin letter.
    assert for_display("你好,世界!很好 1,000 “好”,a 中,1 a,b ）?") == "你好，世界！很好 1,000 “好”，a 中,1 a,b ）？"
