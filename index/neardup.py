"""Near-duplicate articles: a MinHash signature per article at build time, collapsing at query time.

News archives carry the same story from several outlets or issues, nearly word for word. In a
result list they crowd out everything else, so near-identical articles are shown as one result
that says how many more there are. Similarity is the Jaccard overlap of the articles' 5-character
shingles (letters, digits and Chinese characters only, so punctuation and spacing do not
matter), estimated from 64 MinHash values stored with each article (256 bytes an article; fewer make
the estimate too noisy near the threshold).
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Protocol

import numpy as np
import numpy.typing as npt

from index.bm25 import DiskSlices
from index.normalize import for_matching

UInt32Array = npt.NDArray[np.uint32]

N_HASHES = 64
SHINGLE_CHARS = 5
# Estimated Jaccard overlap of shingles at or above which two articles are the same story.
# Reworded follow-ups of an event stay well below it; reprints with another dateline or
# byline stay above it.
MIN_SIMILARITY = 0.5
# The signature of a text too short to shingle: never similar to anything.
EMPTY = np.uint32(0xFFFFFFFF)
_NOT_WORD_RE = re.compile(r"[\W_]+")


def _permutations() -> tuple[npt.NDArray[np.uint64], npt.NDArray[np.uint64]]:
    # Fixed, so that signatures written by different processes (a build, a publish) compare.
    rng = np.random.default_rng(20231)
    a = rng.integers(1, 2**63, size=N_HASHES, dtype=np.uint64) | np.uint64(1)
    b = rng.integers(0, 2**63, size=N_HASHES, dtype=np.uint64)
    return a[:, None], b[:, None]


_A, _B = _permutations()


def signature(text: str, folded: bool = False) -> UInt32Array:
    """The MinHash signature of a text (N_HASHES values); `folded`: already `for_matching`."""
    folded_text = _NOT_WORD_RE.sub("", text if folded else for_matching(text))
    points = np.frombuffer(folded_text.encode("utf-32-le"), dtype=np.uint32).astype(np.uint64)
    if points.shape[0] < SHINGLE_CHARS:
        return np.full(N_HASHES, EMPTY, dtype=np.uint32)
    n = points.shape[0] - SHINGLE_CHARS + 1
    shingles = np.zeros(n, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for k in range(SHINGLE_CHARS):
            # A polynomial hash of the shingle's code points, wrapping modulo 2**64.
            shingles = shingles * np.uint64(1_000_003) + points[k : k + n]
        mixed = _A * shingles[None, :]
        mixed += _B
    # The high half of the smallest value is the smallest high half: shift 64 values, not all.
    return (mixed.min(axis=1) >> np.uint64(32)).astype(np.uint32)


def signatures(texts: list[str]) -> UInt32Array:
    """Signatures of several texts, one row each."""
    if not texts:
        return np.zeros((0, N_HASHES), dtype=np.uint32)
    return np.stack([signature(t) for t in texts])


def similarity(a: UInt32Array, b: UInt32Array) -> float:
    """Estimated Jaccard overlap of two signatures (0 when either text was too short)."""
    if bool((a == EMPTY).all()) or bool((b == EMPTY).all()):
        return 0.0
    return float(np.mean(a == b))


@dataclass
class Group:
    """A result and the near-identical results folded into it."""

    position: int  # index of the representative in the ranked list
    members: list[int] = field(default_factory=list)  # indexes of the folded ones


def collapse(rows: UInt32Array, min_similarity: float = MIN_SIMILARITY) -> list[Group]:
    """Groups of near-identical items of a ranked list (rows: their signatures, best first).

    Each item joins the first better-ranked group whose representative it resembles, so the
    best-ranked article of a story stands for it.
    """
    n = int(rows.shape[0])
    if n == 0:
        return []
    equal = (rows[:, None, :] == rows[None, :, :]).mean(axis=2)
    blank = (rows == EMPTY).all(axis=1)
    equal[blank, :] = 0.0
    equal[:, blank] = 0.0
    groups: list[Group] = []
    for item in range(n):
        for group in groups:
            if equal[item, group.position] >= min_similarity:
                group.members.append(item)
                break
        else:
            groups.append(Group(item))
    return groups


class Signatures(Protocol):
    """The signatures of an index's documents, by document number (an array, or `SignatureFiles`)."""

    def __getitem__(self, docs: list[int]) -> UInt32Array:
        """The rows of the given documents."""
        ...


class SignatureFiles:
    """The signature rows of an index's segments, read from disk by document (not held in memory:
    a question folds its few candidates, and at city size the rows take over 100 MB)."""

    def __init__(self, parts: list[tuple[int, DiskSlices]]) -> None:
        self.parts = sorted(parts, key=lambda part: part[0])  # (first document, its rows)

    def __len__(self) -> int:
        return sum(rows.length for _, rows in self.parts)

    def __getitem__(self, docs: list[int]) -> UInt32Array:
        out = np.empty((len(docs), N_HASHES), dtype=np.uint32)
        for number, doc in enumerate(docs):
            for start, rows in reversed(self.parts):
                if doc >= start:
                    out[number] = rows.read(doc - start, doc - start + 1)[0]
                    break
            else:
                raise IndexError(doc)
        return out

    def close(self) -> None:
        """Release the files."""
        for _, rows in self.parts:
            rows.close()


def fold_similar(
    ranked: list[tuple[int, float, float]], signatures_by_doc: Signatures, min_similarity: float = MIN_SIMILARITY
) -> list[tuple[tuple[int, float, float], list[int]]]:
    """Ranked (document, score, coverage) rows with the near-identical ones folded into the best
    of them: (row, folded documents). A threshold above 1 folds nothing."""
    if len(ranked) < 2 or min_similarity > 1.0:
        return [(row, []) for row in ranked]
    groups = collapse(signatures_by_doc[[doc for doc, _, _ in ranked]], min_similarity)
    return [(ranked[g.position], [ranked[m][0] for m in g.members]) for g in groups]
