"""Choosing the passage of an article that answers a question, and marking the matched words.

A passage is one to three consecutive sentences of the body or of a photo caption. It is scored
by the (idf-weighted) share of the question's words it holds; when the question asks for a kind
of answer (how many, when, who, where, which: see index.answer_kind), a passage that also holds
such an answer gets a bonus, so "…有多少名代表" shows the sentence with "17名代表" rather than the
one that only repeats the question. Matched words are marked only on word boundaries of the
segmented passage (王为 is not marked inside the name 王为人).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

from index.answer_kind import answer_spans

SNIPPET_CHARS = 200
_SENTENCE_RE = re.compile(r"[^。！？!?；;\n]+(?:[。！？!?；;]+[”’」』)）]*)?|\n")
# A passage holding the kind of answer asked for beats one with this much more of the question's words.
ANSWER_BONUS = 0.4
# A caption wins over body text only when it holds clearly more.
CAPTION_PENALTY = 0.05
# Characters either side of a matched word segmented to check that it is a whole word.
BOUNDARY_CONTEXT = 4
# Matched words longer than this are marked without that check.
MAX_CHECKED_CHARS = 2


class TextTools(Protocol):
    """The segmenter's services the chooser uses (index.tokenize.Tokenizer provides them)."""

    def words(self, text: str) -> list[str]:
        """The text cut into words (precise mode); the words join back to the text."""
        ...

    def is_word(self, word: str) -> bool:
        """Whether the word is in the segmenter's dictionary."""
        ...


@dataclass
class Snippet:
    """A passage of at most `SNIPPET_CHARS` characters and the spans of matched words in it."""

    text: str
    highlights: list[tuple[int, int]] = field(default_factory=list)

    def marked(self, start: str = "【", end: str = "】") -> str:
        """The passage with matched words wrapped in markers."""
        out, last = [], 0
        for s, e in self.highlights:
            out.append(self.text[last:s])
            out.append(start + self.text[s:e] + end)
            last = e
        out.append(self.text[last:])
        return "".join(out)


class _FoldTable(dict[int, str]):
    """Each character's folded form, worked out the first time it is seen."""

    def __missing__(self, code: int) -> str:
        char = chr(code)
        folded = unicodedata.normalize("NFKC", char).lower()
        if len(folded) != 1:
            folded = char.lower() if len(char.lower()) == 1 else char
        self[code] = folded
        return folded


_FOLD_TABLE = _FoldTable()


def fold(text: str) -> str:
    """Width-folded, lower-cased text of exactly the same length (so positions carry over)."""
    return text.translate(_FOLD_TABLE)


def split_sentences(text: str) -> list[str]:
    """Sentences of a text, punctuation kept, paragraph breaks dropped."""
    return [s.strip() for s in _SENTENCE_RE.findall(text) if s.strip()]


def find_highlights(text: str, terms: Iterable[str], tools: TextTools | None = None) -> list[tuple[int, int]]:
    """Non-overlapping spans where query terms occur, longest terms first.

    With `tools`, an occurrence counts only when it starts and ends on word boundaries of the
    segmented text, or is a dictionary word inside one longer word (芷江西路 in 芷江西路街道, as
    the index's search-mode segmentation also finds it). Only a few characters around each
    occurrence are segmented: segmenting whole passages would cost more than the rest of the answer.
    """
    folded = fold(text)
    taken = [False] * len(text)
    spans: list[tuple[int, int]] = []
    for term in sorted({t for t in terms if t}, key=len, reverse=True):
        # A long word is hardly ever the end of one word and the start of the next.
        check = tools if len(term) <= MAX_CHECKED_CHARS else None
        start = folded.find(term)
        while start != -1:
            end = start + len(term)
            if not any(taken[start:end]) and (check is None or _whole_word(folded, start, end, check)):
                spans.append((start, end))
                for i in range(start, end):
                    taken[i] = True
            start = folded.find(term, start + 1)
    return sorted(spans)


def _whole_word(folded: str, start: int, end: int, tools: TextTools) -> bool:
    left = max(0, start - BOUNDARY_CONTEXT)
    bounds, words, position = {0}, [], 0
    for word in tools.words(folded[left : end + BOUNDARY_CONTEXT]):
        words.append((position, position + len(word)))
        position += len(word)
        bounds.add(position)
    s, e = start - left, end - left
    if s in bounds and e in bounds:
        return True
    inside_one = any(a <= s and e <= b for a, b in words)
    return inside_one and end - start >= 2 and tools.is_word(folded[start:end])


@dataclass
class _Window:
    text: str
    folded: str
    source: int  # 0 the body, 1.. the captions
    first: int  # index of the first sentence within its source
    sentences: tuple[int, ...]  # keys of its sentences in the answer cache
    match: float = 0.0
    # Several sentences longer than the limit: shown cut, so only considered for an answer.
    over: bool = False


Span3 = tuple[int, int, float]


class _Answers:
    """Answer spans of each sentence, found once per snippet."""

    def __init__(self, kinds: frozenset[str], tools: TextTools | None) -> None:
        self.kinds = kinds
        self.is_word = tools.is_word if tools is not None else None
        self.cache: dict[int, list[Span3]] = {}

    def of(self, key: int, sentence: str) -> list[Span3]:
        found = self.cache.get(key)
        if found is None:
            found = self.cache[key] = answer_spans(sentence, self.kinds, self.is_word)
        return found


def _terms_cover(folded: str, start: int, end: int, terms: Iterable[str]) -> bool:
    """Whether question words cover every character of folded[start:end] (the span only repeats the question)."""
    covered = [False] * (end - start)
    for term in terms:
        position = folded.find(term, max(0, start - len(term) + 1))
        while position != -1 and position < end:
            for i in range(max(position, start), min(position + len(term), end)):
                covered[i - start] = True
            position = folded.find(term, position + 1)
    return all(covered)


def _windows(sources: list[str], limit: int, longer: bool) -> tuple[list[_Window], list[str]]:
    """Every window of one to three sentences, and all sentences.

    Several sentences make a window only within `limit` characters, or within twice that when
    `longer` (a window that may be cut around an answer).
    """
    windows: list[_Window] = []
    sentences_all: list[str] = []
    most = 2 * limit if longer else limit
    for source, text in enumerate(sources):
        sentences = split_sentences(text)
        base = len(sentences_all)
        sentences_all.extend(sentences)
        folded = [fold(s) for s in sentences]
        for i in range(len(sentences)):
            for size in (1, 2, 3):
                if i + size > len(sentences):
                    break
                joined = "".join(sentences[i : i + size])
                if size > 1 and len(joined) > most:
                    break
                keys = tuple(range(base + i, base + i + size))
                over = size > 1 and len(joined) > limit
                windows.append(_Window(joined, "".join(folded[i : i + size]), source, i, keys, over=over))
    return windows, sentences_all


def _answer_in(window: _Window, sentences: list[str], answers: _Answers, terms: list[str]) -> list[Span3]:
    """Spans (within the window's text) of answers that say more than the question's own words."""
    out, offset = [], 0
    for key in window.sentences:
        sentence = sentences[key]
        folded = window.folded[offset : offset + len(sentence)]
        for start, end, strength in answers.of(key, sentence):
            if not _terms_cover(folded, start, end, terms):
                out.append((offset + start, offset + end, strength))
        offset += len(sentence)
    return out


def _match(folded: str, weights: dict[str, float], total: float, source: int) -> float:
    share = sum(w for term, w in weights.items() if term and term in folded) / total
    return share - (CAPTION_PENALTY if source > 0 else 0.0)


def best_snippet(
    body: str,
    weights: dict[str, float],
    captions: list[str] | None = None,
    limit: int = SNIPPET_CHARS,
    kinds: frozenset[str] = frozenset(),
    tools: TextTools | None = None,
) -> Snippet:
    """The window of one to three consecutive sentences that answers the question best.

    `weights` maps each query term to its importance (its idf); `kinds` are the kinds of answer
    the question asks for (index.answer_kind.asked_kinds); `tools` the segmenter, for word
    boundaries of the highlights and for finding names.
    """
    terms = [t for t in weights if t]
    total = sum(weights.get(t, 0.0) for t in terms) or 1.0
    windows, sentences = _windows([body, *(captions or [])], limit, longer=bool(kinds))
    for window in windows:
        window.match = _match(window.folded, weights, total, window.source)
    matched = [w for w in windows if w.match > 0]
    if not any(not w.over for w in matched):
        lead = split_sentences(body)
        text = _trim("".join(lead[:2]) if lead else body, terms, limit, [])
        return Snippet(text=text, highlights=find_highlights(text, terms, tools))

    def key(match: float, window: _Window) -> tuple[float, int, int, int]:
        # Prefer the better answer, then the body, then shorter and earlier passages.
        return (match, -window.source, -len(window.sentences), -window.first)

    best = max((w for w in matched if not w.over), key=lambda w: key(w.match, w))
    best_key = key(best.match, best)
    text = best.text
    if kinds:
        answers = _Answers(kinds, tools)
        top = best.match
        # Most matching first: the bounded tagging goes to the passages most likely to be shown.
        for window in sorted(matched, key=lambda w: key(w.match, w), reverse=True):
            if window.match + ANSWER_BONUS < top:
                break
            found = _answer_in(window, sentences, answers, terms)
            if not found:
                continue
            view = _trim(window.text, terms, limit, found)
            shift = _view_offset(window.text, view)
            shown = [s for s in found if s[0] >= shift and s[1] <= shift + len(view)]
            if not shown:
                continue
            match = _match(fold(view), weights, total, window.source) if view != window.text else window.match
            candidate = key(match + ANSWER_BONUS * max(s[2] for s in shown), window)
            if candidate > best_key:
                best_key, text = candidate, view
    text = _trim(text, terms, limit, [])
    return Snippet(text=text, highlights=find_highlights(text, terms, tools))


def _view_offset(text: str, view: str) -> int:
    """Where a trimmed view starts in its text (after the leading ellipsis)."""
    if view.startswith("…") and not text.startswith("…"):
        return text.find(view[1:].rstrip("…"))
    return 0


def _trim(text: str, terms: list[str], limit: int, answers: list[Span3]) -> str:
    """At most `limit` characters of `text`: around its first answer and the matched words near it."""
    if len(text) <= limit:
        return text
    spans = find_highlights(text, terms)
    anchor = answers[0][0] if answers else (spans[0][0] if spans else 0)
    if answers and spans:
        # Start at the nearest matched word before the answer when both fit.
        before = [s for s, _ in spans if s <= anchor and answers[0][1] - s <= limit * 3 // 4]
        anchor = before[-1] if before else anchor
    start = max(0, min(anchor - limit // 4, len(text) - (limit - 1)))
    prefix = "…" if start > 0 else ""
    room = limit - len(prefix) - 1
    body = text[start : start + room]
    return prefix + body + ("…" if start + room < len(text) else "")
