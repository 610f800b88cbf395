"""Ranking the answer path: the word and bigram fields fused, then a term-proximity rerank.

Both fields are scored with exact BM25Okapi over every document. Their scales differ (a
question has a few words but many bigrams), so each field's scores are divided by their best
score before they are added, the bigram field weighted by `bigram_weight`. The candidates
the no-answer check reads (`SearchSettings.candidates`) are then reranked with a proximity
feature: the largest idf-weighted share of the question's bigrams found together inside one
window of `window` characters of the article (1.0 when all of them stand within one
sentence-sized stretch, as when the article says what the question asks in the question's
words), added with weight `proximity_weight`. Positions come from those candidates' text.

The plain BM25 ranking (the word field alone) stays available as `BM25Index.top`; benchmarks
report it apart from this one.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from index.bigram import BigramIndex, Occurrences, text_occurrences
from index.bm25 import FloatArray, IntArray

# Offsets within one document stay far below this, so (document, offset) packs into one int64.
_STRIDE = 1 << 32


@dataclass(frozen=True)
class FusionSettings:
    """How the fields and the proximity feature are combined."""

    bigram_weight: float = 1.0
    proximity_weight: float = 0.4
    window: int = 30


def window_coverage(occurrences: Occurrences, weights: FloatArray, n_docs: int, window: int) -> FloatArray:
    """For each of `n_docs` documents, the largest weighted share of query terms inside one window.

    `occurrences.doc` numbers the documents 0..n_docs-1, `occurrences.term` the query terms
    (indexes into `weights`). A window starts at an occurrence and spans `window` characters.
    """
    best = np.zeros(n_docs, dtype=np.float64)
    total = float(weights.sum())
    if occurrences.position.shape[0] == 0 or total <= 0.0:
        return best
    keys = occurrences.doc * _STRIDE + occurrences.position
    order = np.argsort(keys, kind="stable")
    keys, terms, docs = keys[order], occurrences.term[order], occurrences.doc[order]
    covered = np.zeros(keys.shape[0], dtype=np.float64)
    for term in np.unique(terms).tolist():
        own = keys[terms == term]
        # The first occurrence of this term at or after each window's start...
        at = np.searchsorted(own, keys)
        inside = at < own.shape[0]
        found = np.zeros(keys.shape[0], dtype=bool)
        # ... counts when it lies within the window (never in the next document: offsets < _STRIDE).
        found[inside] = own[at[inside]] < keys[inside] + window
        covered += weights[term] * found
    np.maximum.at(best, docs, covered)
    return best / total


def _normalise(scores: FloatArray) -> FloatArray:
    """Divide by the best score, in place (no n_docs-sized temporary per field)."""
    top = float(scores.max()) if scores.shape[0] else 0.0
    if top > 0.0:
        np.divide(scores, top, out=scores)
    return scores


def fused_scores(
    words: FloatArray,
    bigrams: FloatArray | None,
    weight: float,
    allowed: npt.NDArray[np.bool_] | None = None,
) -> FloatArray:
    """Each document's word score / best word score + weight × bigram score / best bigram score.

    With `allowed` (a question's street and month), other documents score 0 and the best
    scores are taken among the allowed ones. The arrays are modified in place (the result is
    `words`).
    """
    if allowed is not None:
        words[~allowed[: words.shape[0]]] = 0.0
    combined = _normalise(words)
    if bigrams is not None and weight > 0.0:
        if allowed is not None:
            bigrams[~allowed[: bigrams.shape[0]]] = 0.0
        part = _normalise(bigrams)
        np.multiply(part, weight, out=part)
        combined += part
    return combined


def top_docs(scores: FloatArray, k: int) -> IntArray:
    """The k best documents with a positive score, best first (ties by document number).

    Only the documents with a score are partitioned; a tie at the k-th score goes to the lower
    document number, as everywhere else.
    """
    if k <= 0 or not scores.shape[0]:
        return np.zeros(0, dtype=np.int64)
    scored = np.flatnonzero(scores > 0.0)
    if scored.shape[0] > k:
        values = scores[scored]
        kth = values[np.argpartition(-values, k - 1)[k - 1]]
        scored = scored[values >= kth]
    order = np.lexsort((scored, -scores[scored]))
    return scored[order[:k]].astype(np.int64)


def proximity(texts: list[str], bigrams: BigramIndex, codes: list[int], window: int) -> FloatArray:
    """Each text's window coverage of the question's bigrams, weighted by their idf (0..1)."""
    if not codes or not texts:
        return np.zeros(len(texts), dtype=np.float64)
    weights = np.array([max(bigrams.term_idf(c), 0.0) for c in codes], dtype=np.float64)
    return window_coverage(text_occurrences(texts, codes), weights, len(texts), window)
