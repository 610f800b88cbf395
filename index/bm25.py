"""Exact BM25 (Okapi, as rank-bm25's `BM25Okapi` scores it) over an inverted index in numpy arrays.

Documents arrive as bags of term ids (plain arrays). The index is a list of segments, each
holding its documents' postings by term; a newly published issue is one more small segment,
so nothing is rebuilt. Scoring walks only the postings of the query's terms
(term-at-a-time), so a question costs what its terms occur in, not the size of the corpus.
Each posting's contribution is computed when a question needs it, not kept: precomputed, they
would cost 8 bytes a posting in memory (more than the postings themselves) and a read of
every posting at start-up, for a fraction of a millisecond a question.

Scores equal rank-bm25's: idf = log(N - df + 0.5) - log(df + 0.5), negative idfs replaced by
epsilon times the mean idf of the vocabulary, tf normalised by k1 and b against the average
document length, and a term repeated in the query counted each time.
"""

from __future__ import annotations

import math
import os
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from index.arrays import open_array

IntArray = npt.NDArray[np.int64]
Int32Array = npt.NDArray[np.int32]
FloatArray = npt.NDArray[np.float64]
# Term frequencies: the smallest unsigned type that holds a segment's largest (see compact_counts).
CountArray = npt.NDArray[np.integer[Any]]

SEGMENT_ARRAYS = ("doc_len", "fwd_indptr", "fwd_terms", "fwd_tfs", "terms", "indptr", "docs", "tfs")


@dataclass(frozen=True)
class BM25Params:
    """The scoring parameters (rank-bm25's defaults)."""

    k1: float = 1.5
    b: float = 0.75
    epsilon: float = 0.25


@dataclass
class Segment:
    """The postings of a run of consecutive documents.

    Forward arrays (`fwd_*`, by document) keep each document's bag of terms so a rebuild can
    reuse it; inverted arrays (`terms`, `indptr`, `docs`, `tfs`, by term) answer queries.
    `docs` are local numbers: add `doc_start` for the global one.
    """

    doc_start: int
    doc_len: Int32Array
    fwd_indptr: IntArray
    fwd_terms: Int32Array
    fwd_tfs: CountArray
    terms: Int32Array
    indptr: IntArray
    docs: Int32Array
    tfs: CountArray
    # Set when loaded from disk: the postings are then read by pread (see DiskSlices).
    disk_docs: DiskSlices | None = field(default=None, repr=False, compare=False)
    disk_tfs: DiskSlices | None = field(default=None, repr=False, compare=False)

    @property
    def n_docs(self) -> int:
        """How many documents the segment holds."""
        return int(self.doc_len.shape[0])

    def postings_range(self, term: int) -> tuple[int, int] | None:
        """Where one term's postings lie in `docs`/`tfs`, or None when absent."""
        # A Python int would make numpy cast the whole `terms` array to int64 before
        # searching (~0.1 ms a lookup at 68k articles); a scalar of its own dtype does not.
        pos = int(self.terms.searchsorted(self.terms.dtype.type(term)))
        if pos >= self.terms.shape[0] or int(self.terms[pos]) != term:
            return None
        return int(self.indptr[pos]), int(self.indptr[pos + 1])

    def postings(self, term: int) -> tuple[Int32Array, CountArray] | None:
        """(local doc numbers, term frequencies) of one term, or None when absent."""
        found = self.postings_range(term)
        if found is None:
            return None
        start, end = found
        return self.docs[start:end], self.tfs[start:end]

    def bag(self, local_doc: int) -> tuple[Int32Array, CountArray]:
        """(term ids, frequencies) of one document."""
        start, end = int(self.fwd_indptr[local_doc]), int(self.fwd_indptr[local_doc + 1])
        return self.fwd_terms[start:end], self.fwd_tfs[start:end]

    def save(self, directory: Path) -> None:
        """Write the arrays as .npy files (loadable memory-mapped)."""
        directory.mkdir(parents=True, exist_ok=True)
        for name in SEGMENT_ARRAYS:
            np.save(directory / f"{name}.npy", getattr(self, name), allow_pickle=False)

    @classmethod
    def load(cls, directory: Path, doc_start: int, mmap: bool = True) -> Segment:
        """Read a segment written by `save`; raises ValueError when it is inconsistent."""
        # Plain ndarray views of the maps: slicing a np.memmap runs Python-level hooks on
        # every slice, which the per-term scoring loop would pay on each question.
        mapped = {name: open_array(directory / f"{name}.npy", mmap) for name in SEGMENT_ARRAYS}
        arrays: dict[str, Any] = {name: np.asarray(array) for name, array in mapped.items()}
        segment = cls(doc_start=doc_start, **arrays)
        segment.validate()
        if mmap:
            segment.disk_docs = DiskSlices(directory / "docs.npy", mapped["docs"])
            segment.disk_tfs = DiskSlices(directory / "tfs.npy", mapped["tfs"])
        return segment

    def close(self) -> None:
        """Release the files the postings are read from."""
        for disk in (self.disk_docs, self.disk_tfs):
            if disk is not None:
                disk.close()
        self.disk_docs = self.disk_tfs = None

    def validate(self) -> None:
        """Raise ValueError when the arrays do not fit together (a damaged index)."""
        n = self.n_docs
        if self.fwd_indptr.shape[0] != n + 1 or int(self.fwd_indptr[-1]) != self.fwd_terms.shape[0]:
            raise ValueError("forward index does not match the document count")
        if self.fwd_tfs.shape != self.fwd_terms.shape or self.tfs.shape != self.docs.shape:
            raise ValueError("term frequency arrays do not match their postings")
        if self.indptr.shape[0] != self.terms.shape[0] + 1 or int(self.indptr[-1]) != self.docs.shape[0]:
            raise ValueError("inverted index pointers do not match the postings")
        if self.docs.shape[0] != self.fwd_terms.shape[0]:
            raise ValueError("forward and inverted postings differ in size")


def compact_counts(tfs: npt.NDArray[np.integer[Any]]) -> CountArray:
    """Term frequencies in the smallest type that holds them: almost all fit in one byte,
    which is a quarter of the postings a question reads (and of the memory they page in)."""
    largest = int(tfs.max(initial=0))
    dtype = np.uint8 if largest <= 0xFF else np.uint16 if largest <= 0xFFFF else np.int32
    return tfs.astype(dtype, copy=False)


Postings = tuple[Int32Array, CountArray, npt.NDArray[np.integer[Any]]]


def postings_by_term(parts: Sequence[Postings], n_docs: int) -> tuple[Int32Array, IntArray, Int32Array, CountArray]:
    """Postings sorted by term, each term's in document order: (the distinct terms, where each
    one's postings start, their documents, their frequencies).

    Each part is (terms, tfs, docs): document `docs[i]` holds `terms[i]` `tfs[i]` times, in
    any order and spread over the parts as they come; a document holds a term once. When a
    term id, a document number and a frequency fit in 64 bits together, one sort of those
    packed keys is all it takes: no order to apply afterwards, whose scattered reads of two
    large arrays cost more than the sort itself, and the parts are never joined first.
    """
    doc_bits = max(1, (n_docs - 1).bit_length())
    tf_bits = max(1, max((int(tfs.max(initial=0)) for _, tfs, _ in parts), default=0).bit_length())
    low_bits = doc_bits + tf_bits
    largest_term = max((int(terms.max(initial=0)) for terms, _, _ in parts), default=0)
    dtype = np.result_type(*(tfs.dtype for _, tfs, _ in parts)) if parts else np.dtype(np.uint8)
    if largest_term.bit_length() + low_bits <= 64:
        total = sum(terms.shape[0] for terms, _, _ in parts)
        # One scratch array for every step: each fresh array of this size is paged in anew.
        keys, scratch = np.empty(total, dtype=np.uint64), np.empty(total, dtype=np.uint64)
        start = 0
        for terms, _, docs in parts:
            end = start + terms.shape[0]
            keys[start:end], scratch[start:end] = terms, docs
            start = end
        keys <<= np.uint64(low_bits)
        scratch <<= np.uint64(tf_bits)
        keys |= scratch
        start = 0
        for _, tfs, _ in parts:
            scratch[start : start + tfs.shape[0]] = tfs
            start += tfs.shape[0]
        keys |= scratch
        keys.sort()
        np.right_shift(keys, np.uint64(low_bits), out=scratch)
        ranked = scratch.astype(np.int32)
        np.right_shift(keys, np.uint64(tf_bits), out=scratch)
        scratch &= np.uint64((1 << doc_bits) - 1)
        sorted_docs = scratch.astype(np.int32)
        np.bitwise_and(keys, np.uint64((1 << tf_bits) - 1), out=scratch)
        sorted_tfs = scratch.astype(dtype)
    else:
        all_terms, all_tfs, all_docs = (np.concatenate(column) for column in zip(*parts, strict=True))
        order = np.lexsort((all_docs, all_terms))
        ranked, sorted_docs, sorted_tfs = all_terms[order], all_docs[order].astype(np.int32), all_tfs[order]
    # The sorted ids change where a term's postings start: no second pass to count them.
    changes = np.concatenate(([True], ranked[1:] != ranked[:-1])) if ranked.shape[0] else np.zeros(0, np.bool_)
    firsts = np.flatnonzero(changes)
    indptr = np.append(firsts, ranked.shape[0]).astype(np.int64)
    return ranked[firsts].astype(np.int32), indptr, sorted_docs, sorted_tfs.astype(dtype, copy=False)


def sums_by_run(values: npt.NDArray[np.integer[Any]], lengths: npt.NDArray[np.integer[Any]]) -> Int32Array:
    """The sum of each run of `values` laid end to end (`lengths[i]` values in run i)."""
    starts = np.zeros(lengths.shape[0], dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    sums = np.zeros(lengths.shape[0], dtype=np.int64)
    filled = lengths > 0  # np.add.reduceat gives an empty run the value after it
    sums[filled] = np.add.reduceat(values, starts[filled], dtype=np.int64) if values.shape[0] else 0
    return sums.astype(np.int32)


class DiskSlices:
    """A saved .npy array read by slices with pread instead of through its memory map.

    The postings a question reads are a few contiguous runs; read into a short-lived buffer
    they stay in the kernel's page cache (shared, dropped under memory pressure) rather than in
    this process's resident memory, where a map's pages would stay once touched. Thread-safe.
    """

    def __init__(self, path: Path, mapped: np.ndarray) -> None:
        offset = getattr(mapped, "offset", None)
        if offset is None or not mapped.flags.c_contiguous:
            raise ValueError(f"{path.name} is not a plain memory-mapped array")
        self.dtype = mapped.dtype
        self.offset = int(offset)
        self.length = int(mapped.shape[0])
        # Rows of a 2-d array (signatures) are read whole.
        self.row_shape = tuple(int(n) for n in mapped.shape[1:])
        self.row_bytes = self.dtype.itemsize * math.prod(self.row_shape)
        # A file object rather than a bare descriptor: it is closed when dropped.
        self._file = path.open("rb", buffering=0)

    def read(self, start: int, end: int) -> np.ndarray:
        """Elements (rows) start..end-1 (a read-only array)."""
        if not 0 <= start <= end <= self.length:
            raise IndexError((start, end))
        size = self.row_bytes
        data = os.pread(self._file.fileno(), (end - start) * size, self.offset + start * size)
        if len(data) != (end - start) * size:
            raise OSError(f"short read from {self._file.name}")
        values = np.frombuffer(data, dtype=self.dtype)
        return values.reshape((end - start, *self.row_shape)) if self.row_shape else values

    def close(self) -> None:
        """Release the file."""
        self._file.close()


def zeroed(out: FloatArray | None, n: int) -> FloatArray:
    """`out` filled with zeros when it is an n-long float64 array, else a new zero array."""
    if out is None or out.shape != (n,) or out.dtype != np.float64:
        return np.zeros(n, dtype=np.float64)
    out.fill(0.0)
    return out


def read_whole(array: np.ndarray) -> np.ndarray:
    """The values of a memory-mapped array read from its file into a private copy, for a pass
    over all of it: through the map, every page read would stay resident in this process."""
    base = array.base
    if isinstance(base, np.memmap) and base.filename and array.shape == base.shape and array.flags.c_contiguous:
        return np.fromfile(base.filename, dtype=array.dtype, count=array.size, offset=base.offset).reshape(array.shape)
    return array


def add_contributions(
    part: FloatArray, docs: np.ndarray, tfs: np.ndarray, norm: FloatArray, idf: float, k1: float
) -> None:
    """part[docs] += idf * (tf * (k1 + 1) / (tf + norm[docs])): a term's BM25 contributions.

    The same operations in the same order as rank-bm25, so the scores are bitwise equal, but
    in place where they can be: at 500k articles a common term has a few hundred thousand
    postings, and every temporary is a fresh allocation to fault in. np.add.at adds each
    contribution once, as `part[docs] += ...` does for a term's distinct documents, at a third
    of its cost (numpy 2's fast path), and both index with the platform's integer.
    """
    index = docs.astype(np.intp)
    tf = tfs.astype(np.float64)
    contribution = norm[index]
    contribution += tf
    np.divide(np.multiply(tf, k1 + 1.0, out=tf), contribution, out=contribution)
    np.multiply(contribution, idf, out=contribution)
    np.add.at(part, index, contribution)


def read_slices(array: np.ndarray, disk: DiskSlices | None, start: int, end: int) -> np.ndarray:
    """array[start:end], read from disk when the array was loaded with its `DiskSlices`."""
    return array[start:end] if disk is None else disk.read(start, end)


def build_segment(bags: Sequence[tuple[Int32Array, CountArray]], doc_start: int) -> Segment:
    """A segment from per-document bags (sorted unique term ids, their frequencies)."""
    lengths = np.array([len(terms) for terms, _ in bags], dtype=np.int64)
    fwd_indptr = np.zeros(len(bags) + 1, dtype=np.int64)
    np.cumsum(lengths, out=fwd_indptr[1:])
    if bags:
        fwd_terms = np.concatenate([t for t, _ in bags]).astype(np.int32, copy=False)
        fwd_tfs = compact_counts(np.concatenate([f for _, f in bags]))
    else:
        fwd_terms = np.zeros(0, dtype=np.int32)
        fwd_tfs = np.zeros(0, dtype=np.uint8)
    doc_len = sums_by_run(fwd_tfs, lengths)
    local_docs = np.repeat(np.arange(len(bags), dtype=np.int32), lengths)
    terms, indptr, docs, tfs = postings_by_term([(fwd_terms, fwd_tfs, local_docs)], len(bags))
    return Segment(
        doc_start=doc_start,
        doc_len=doc_len,
        fwd_indptr=fwd_indptr,
        fwd_terms=fwd_terms,
        fwd_tfs=fwd_tfs,
        terms=terms,
        indptr=indptr,
        docs=docs,
        tfs=tfs,
    )


class BM25Index:
    """Global statistics over segments, and scoring."""

    def __init__(self, segments: list[Segment], n_terms: int, params: BM25Params) -> None:
        self.segments = segments
        self.params = params
        self.n_terms = n_terms
        self._prepare()

    def _prepare(self) -> None:
        lengths = [s.doc_len for s in self.segments]
        self.doc_len = np.concatenate(lengths).astype(np.float64) if lengths else np.zeros(0, dtype=np.float64)
        self.n_docs = int(self.doc_len.shape[0])
        self.avgdl = float(self.doc_len.sum() / self.n_docs) if self.n_docs else 0.0
        df = np.zeros(self.n_terms, dtype=np.int64)
        for segment in self.segments:
            np.add.at(df, read_whole(segment.terms).astype(np.int64), np.diff(read_whole(segment.indptr)))
        self.df = df
        self.idf = self._idf(df)
        k1, b = self.params.k1, self.params.b
        if self.n_docs:
            self._norm = k1 * (1.0 - b + b * self.doc_len / self.avgdl)
        else:
            self._norm = np.zeros(0, dtype=np.float64)
        # Each segment's share of the length norms, so a question indexes them by local number.
        self._segment_norms = [self._norm[s.doc_start : s.doc_start + s.n_docs] for s in self.segments]

    def _idf(self, df: IntArray) -> FloatArray:
        present = df > 0
        n = self.n_docs
        idf = np.zeros(df.shape[0], dtype=np.float64)
        if not present.any():
            return idf
        values = np.log(n - df[present] + 0.5) - np.log(df[present] + 0.5)
        average = float(values.sum() / values.shape[0])
        values[values < 0] = self.params.epsilon * average
        idf[present] = values
        return idf

    def term_idf(self, term: int | None) -> float:
        """The idf a term scores with (0 for a term no document holds)."""
        if term is None or term >= self.n_terms:
            return 0.0
        return float(self.idf[term])

    def coverage_idf(self, term: int | None) -> float:
        """A never-negative idf used to weigh how much of a question a document covers."""
        n = self.n_docs
        df = 0 if term is None or term >= self.n_terms else int(self.df[term])
        return math.log(1.0 + (n - df + 0.5) / (df + 0.5))

    def scores(self, query_terms: list[int], out: FloatArray | None = None) -> FloatArray:
        """The BM25 score of every document for the query (term ids; repeats count, as in rank-bm25).

        `out` (n_docs float64) is overwritten and returned: a caller that keeps one per thread
        spares each question a fresh n_docs array (and its page faults).
        """
        scores = zeroed(out, self.n_docs)
        k1 = self.params.k1
        for term in query_terms:
            idf = self.term_idf(term)
            if idf == 0.0:
                continue
            for segment, norm in zip(self.segments, self._segment_norms, strict=True):
                found = segment.postings_range(term)
                if found is None:
                    continue
                start, end = found
                docs = read_slices(segment.docs, segment.disk_docs, start, end)
                tfs = read_slices(segment.tfs, segment.disk_tfs, start, end)
                part = scores[segment.doc_start : segment.doc_start + segment.n_docs]
                add_contributions(part, docs, tfs, norm, idf, k1)
        return scores

    def top(self, query_terms: list[int], k: int) -> list[tuple[int, float]]:
        """The k best (document, score) pairs with a positive score, best first."""
        if not self.n_docs or k <= 0:
            return []
        scores = self.scores(query_terms)
        k = min(k, self.n_docs)
        candidates = np.argpartition(-scores, k - 1)[:k]
        ranked = sorted(candidates.tolist(), key=lambda d: (-scores[d], d))
        return [(int(d), float(scores[d])) for d in ranked if scores[d] > 0.0]

    def segment_of(self, doc: int) -> tuple[Segment, int]:
        """The segment holding a global document number, and its local number there."""
        for segment in reversed(self.segments):
            if doc >= segment.doc_start:
                return segment, doc - segment.doc_start
        raise IndexError(doc)

    def doc_has_term(self, doc: int, term: int) -> bool:
        """Whether a document holds a term, from the term's postings (sorted by document).

        The postings a question is scored with are already in memory; a document's forward
        bag would page in a part of the forward arrays for each candidate checked.
        """
        segment, local = self.segment_of(doc)
        found = segment.postings_range(term)
        if found is None:
            return False
        start, end = found
        docs = segment.docs[start:end]
        position = int(docs.searchsorted(docs.dtype.type(local)))
        return position < docs.shape[0] and int(docs[position]) == local
