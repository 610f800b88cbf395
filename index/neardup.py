"""Near-duplicate articles: a MinHash signature per article at build time, collapsing at query time.

News archives carry the same story from several outlets or issues, nearly word for word. In a
result list they crowd out everything else, so near-identical articles are shown as one result
that says how many more there are. Similarity is the Jaccard overlap of the articles' 5-character
shingles (letters, digits and Chinese characters only, so punctuation and spacing do not
matter), estimated from 64 one-permutation MinHash values stored with each article (256 bytes
an article; fewer make the estimate too noisy near the threshold).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache
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


# splitmix64's finaliser: every bit of a shingle's hash moves the bin and the value it lands in.
_MIX = (np.uint64(30), np.uint64(0xBF58476D1CE4E5B9), np.uint64(27), np.uint64(0x94D049BB133111EB), np.uint64(31))
# Fixed, so that signatures written by different processes (a build, a publish) compare.
_SEED = np.uint64(0x5DEECE66D2023)
_BIN_SHIFT = np.uint64(64 - 6)  # the top 6 bits choose one of N_HASHES bins
_VALUE_SHIFT = np.uint64(64 - 6 - 32)  # the next 32 bits are the value
assert N_HASHES == 64


def _probe_order() -> npt.NDArray[np.intp]:
    # For each bin, the order in which an empty one looks at the others for a value to take
    # (the same for every text, so equal texts take equal values).
    rng = np.random.default_rng(20231)
    return np.stack([rng.permutation(N_HASHES) for _ in range(N_HASHES)]).astype(np.intp)


_PROBES = _probe_order()
BLOCK_TEXTS = 64


@cache
def _alphanumeric_table() -> npt.NDArray[np.bool_]:
    # Made on the first signature rather than at import: most processes that load an index
    # never compute one.
    return np.fromiter((chr(point).isalnum() for point in range(0x10000)), dtype=np.bool_, count=0x10000)


def _letters_and_digits(points: npt.NDArray[np.uint32]) -> npt.NDArray[np.bool_]:
    """Which code points are letters or digits (what `[^\\W_]` matches), looked up in a table."""
    keep = _alphanumeric_table()[np.minimum(points, 0xFFFF)]
    beyond = np.flatnonzero(points > 0xFFFF)  # rare: the table covers the basic plane
    keep[beyond] = [chr(int(point)).isalnum() for point in points[beyond]]
    return keep


def _mixed(values: npt.NDArray[np.uint64]) -> npt.NDArray[np.uint64]:
    shift1, mult1, shift2, mult2, shift3 = _MIX
    z = values ^ _SEED
    z ^= z >> shift1
    z *= mult1
    z ^= z >> shift2
    z *= mult2
    z ^= z >> shift3
    return z


def signatures(texts: list[str], folded: bool = False) -> UInt32Array:
    """The MinHash signatures of texts, one row of N_HASHES values each (`folded`: already
    `for_matching`).

    One-permutation MinHash: each shingle is hashed once, its hash's top bits choose one of
    the 64 bins and the next 32 are its value; a bin keeps its smallest. Bins no shingle fell
    into take the value of the first filled bin in their probe order (optimal densification,
    Shrivastava 2017). The estimate is as good as 64 separate hashes, at a 64th of the work.
    """
    if len(texts) <= BLOCK_TEXTS:
        return _block_signatures(texts, folded)
    # A few dozen texts at a time: their arrays stay in the processor's cache (twice as fast).
    blocks = [
        _block_signatures(texts[start : start + BLOCK_TEXTS], folded) for start in range(0, len(texts), BLOCK_TEXTS)
    ]
    return np.concatenate(blocks)


def _block_signatures(texts: list[str], folded: bool) -> UInt32Array:
    rows = np.full((len(texts), N_HASHES), EMPTY, dtype=np.uint32)
    laid = texts if folded else [for_matching(text) for text in texts]
    points = np.frombuffer("".join(laid).encode("utf-32-le"), dtype=np.uint32)
    owner = np.repeat(np.arange(len(texts), dtype=np.int64), np.fromiter(map(len, laid), np.int64, len(laid)))
    keep = _letters_and_digits(points)
    points, owner = points[keep].astype(np.uint64), owner[keep]
    if points.shape[0] < SHINGLE_CHARS:
        return rows
    n = points.shape[0] - SHINGLE_CHARS + 1
    shingles = np.zeros(n, dtype=np.uint64)
    for k in range(SHINGLE_CHARS):
        # A polynomial hash of the shingle's code points, wrapping modulo 2**64.
        shingles *= np.uint64(1_000_003)
        shingles += points[k : k + n]
    # The texts are hashed laid end to end: a shingle counts when it starts and ends in one.
    inside = owner[:n] == owner[SHINGLE_CHARS - 1 :]
    owner = owner[:n]
    hashes = _mixed(shingles[inside])
    values = np.minimum((hashes >> _VALUE_SHIFT) & np.uint64(0xFFFFFFFF), np.uint64(EMPTY - 1)).astype(np.uint32)
    np.minimum.at(rows.reshape(-1), owner[inside] * N_HASHES + (hashes >> _BIN_SHIFT).astype(np.int64), values)
    empty = rows == EMPTY
    partial = np.flatnonzero(empty.any(axis=1) & ~empty.all(axis=1))
    if partial.shape[0]:
        filled = ~empty[partial]
        donor = _PROBES[np.arange(N_HASHES)[None, :], filled[:, _PROBES].argmax(axis=2)]
        taken = np.take_along_axis(rows[partial], donor, axis=1)
        rows[partial] = np.where(empty[partial], taken, rows[partial])
    return rows


def signature(text: str, folded: bool = False) -> UInt32Array:
    """The MinHash signature of one text (see `signatures`)."""
    return signatures([text], folded)[0]


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
