"""Choosing the passage of an article that answers a question, and marking the matched words."""

from __future__ import annotations

import re
import unicodedata
from dataclasses import dataclass, field

SNIPPET_CHARS = 200
_SENTENCE_RE = re.compile(r"[^。！？!?；;\n]+(?:[。！？!?；;]+[”’」』)）]*)?|\n")


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


def find_highlights(text: str, terms: list[str]) -> list[tuple[int, int]]:
    """Non-overlapping spans where query terms occur, longest terms first."""
    folded = fold(text)
    taken = [False] * len(text)
    spans: list[tuple[int, int]] = []
    for term in sorted({t for t in terms if t}, key=len, reverse=True):
        start = folded.find(term)
        while start != -1:
            end = start + len(term)
            if not any(taken[start:end]):
                spans.append((start, end))
                for i in range(start, end):
                    taken[i] = True
            start = folded.find(term, end)
    return sorted(spans)


def _window_score(folded: str, weights: dict[str, float]) -> float:
    return sum(weight for term, weight in weights.items() if term in folded)


def _trim(text: str, terms: list[str], limit: int) -> str:
    """At most `limit` characters of `text`, centred on its first matched word."""
    if len(text) <= limit:
        return text
    spans = find_highlights(text, terms)
    first = spans[0][0] if spans else 0
    start = max(0, min(first - limit // 4, len(text) - (limit - 1)))
    prefix = "…" if start > 0 else ""
    room = limit - len(prefix) - 1
    body = text[start : start + room]
    return prefix + body + ("…" if start + room < len(text) else "")


def best_snippet(
    body: str, weights: dict[str, float], captions: list[str] | None = None, limit: int = SNIPPET_CHARS
) -> Snippet:
    """The window of one to three consecutive sentences that covers the question best.

    `weights` maps each query term to its importance (its idf). Sentences of the body are
    preferred; captions are searched when the body holds none of the terms.
    """
    terms = list(weights)
    best: tuple[float, int, int, int] | None = None
    best_text = ""
    for source_rank, text in enumerate([body, *(captions or [])]):
        sentences = split_sentences(text)
        # Folding keeps lengths, so a window's folded text is its folded sentences joined.
        folded = [fold(sentence) for sentence in sentences]
        for i in range(len(sentences)):
            for size in (1, 2, 3):
                window = sentences[i : i + size]
                if len(window) < size:
                    break
                joined = "".join(window)
                if size > 1 and len(joined) > limit:
                    break
                score = _window_score("".join(folded[i : i + size]), weights)
                if score <= 0:
                    continue
                # Prefer higher coverage, then the body, then shorter and earlier passages.
                key = (score, -source_rank, -size, -i)
                if best is None or key > best:
                    best = key
                    best_text = joined
        if best is not None and source_rank == 0:
            break
    if not best_text:
        sentences = split_sentences(body)
        best_text = "".join(sentences[:2]) if sentences else body
    text = _trim(best_text, terms, limit)
    return Snippet(text=text, highlights=find_highlights(text, terms))
