"""The CJK character-bigram field: extraction, its on-disk arrays, exact BM25 over it, positions.

Word segmentation decides what a question can match: a question cut 农家 | 乐趣 never meets an
article cut 农家乐 | 趣. Overlapping pairs of Chinese characters do not depend on the segmenter,
so a second field of them, scored with the same exact BM25Okapi as the word field, recovers
those matches. A bigram needs no vocabulary: its id is computed from its two code points.

Each document's bigrams are taken from the same weighted text parts as its words (the title
counts three times). Positions are not stored: the proximity rerank (`index.ranking`) reads
them from the text of the few candidates the no-answer check reads anyway, which costs less
than paging in stored positions scattered over a large file (and 40% of the index on disk).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import numpy.typing as npt

from index.arrays import open_array
from index.bm25 import (
    BM25Params,
    CountArray,
    DiskSlices,
    FloatArray,
    Int32Array,
    IntArray,
    Postings,
    add_contributions,
    compact_counts,
    postings_by_term,
    read_slices,
    read_whole,
    sums_by_run,
    zeroed,
)

UInt32Array = npt.NDArray[np.uint32]

CJK_FIRST = 0x3400
CJK_LAST = 0x9FFF
CJK_SPAN = CJK_LAST - CJK_FIRST + 1  # a bigram id is first * span + second: < 2**31
BLOCK_TEXTS = 32  # texts whose bigrams are counted in one sort
BIGRAM_ARRAYS = ("bg_doc_len", "bg_terms", "bg_indptr", "bg_docs", "bg_tfs")


def _code_points(text: str) -> npt.NDArray[np.int64]:
    return np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)


def bigram_stream(text: str) -> tuple[Int32Array, UInt32Array]:
    """(bigram ids, character offsets) of every pair of adjacent Chinese characters, in order."""
    points = _code_points(text)
    if points.shape[0] < 2:
        return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.uint32)
    cjk = (points >= CJK_FIRST) & (points <= CJK_LAST)
    pairs = np.flatnonzero(cjk[:-1] & cjk[1:])
    ids = (points[pairs] - CJK_FIRST) * CJK_SPAN + (points[pairs + 1] - CJK_FIRST)
    return ids.astype(np.int32), pairs.astype(np.uint32)


def query_bigrams(runs: list[str]) -> list[int]:
    """The distinct bigram ids of a question's kept runs of words, in order.

    Bigrams are taken inside each run only: a question word or filler removed between two
    runs must not leave a bigram that spans it.
    """
    seen: dict[int, None] = {}
    for run in runs:
        ids, _ = bigram_stream(run)
        for code in ids.tolist():
            seen.setdefault(int(code), None)
    return list(seen)


def token_bigrams(tokens: list[str], question: str = "") -> list[int]:
    """The bigram ids of a question's kept words (its search tokens, in order).

    Neighbouring tokens join into one run when the (normalised) question has them side by
    side, so 垃圾 分类 gives 圾分 too; a question or filler word removed between them breaks
    the run.
    """
    runs: list[str] = []
    for token in tokens:
        if runs and question and (runs[-1] + token) in question:
            runs[-1] += token
        else:
            runs.append(token)
    return query_bigrams(runs)


def bigram_text(code: int) -> str:
    """The two characters of a bigram id (for tests and debugging)."""
    return chr(CJK_FIRST + code // CJK_SPAN) + chr(CJK_FIRST + code % CJK_SPAN)


@dataclass
class BigramDoc:
    """One document's bigrams: sorted distinct ids and their counts."""

    terms: Int32Array
    tfs: Int32Array


def weighted_text(parts: list[tuple[str, int]]) -> str:
    """A document's weighted text parts as one text (each part repeated `weight` times)."""
    return "\n".join(text for text, weight in parts for _ in range(weight))


def document_bigrams(parts: list[tuple[str, int]]) -> BigramDoc:
    """The bigram bag of a document's weighted text parts (each part repeated `weight` times)."""
    _, terms, tfs = bigram_bags([weighted_text(parts)])
    return BigramDoc(terms, tfs.astype(np.int32))


def bigram_bags(texts: list[str]) -> tuple[Int32Array, Int32Array, CountArray]:
    """The bigram bags of several documents' texts: (distinct bigrams of each text, their ids
    text after text, each sorted, and their counts).

    A few dozen texts are read at a time, joined by line breaks, which pair with nothing: one
    sort of (text, bigram) keys replaces a sort per text, and its arrays stay in the
    processor's cache (twice as fast as one sort of a whole chunk).
    """
    if not texts:
        return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.uint8)
    blocks = [_block_bags(texts[start : start + BLOCK_TEXTS]) for start in range(0, len(texts), BLOCK_TEXTS)]
    lengths, terms, counts = (np.concatenate(parts) for parts in zip(*blocks, strict=True))
    return lengths, terms, compact_counts(counts)


def _block_bags(texts: list[str]) -> tuple[Int32Array, Int32Array, IntArray]:
    ids, offsets = bigram_stream("\n".join(texts))
    starts = np.zeros(len(texts), dtype=np.int64)
    np.cumsum(np.fromiter((len(t) + 1 for t in texts[:-1]), dtype=np.int64, count=len(texts) - 1), out=starts[1:])
    owner = np.searchsorted(starts, offsets.astype(np.int64), side="right") - 1
    keys, counts = np.unique((owner << 32) | ids.astype(np.int64), return_counts=True)
    lengths = np.bincount(keys >> 32, minlength=len(texts)).astype(np.int32)
    return lengths, (keys & 0xFFFFFFFF).astype(np.int32), counts


@dataclass
class BigramSegment:
    """The bigram postings of a run of consecutive documents (inverted only)."""

    doc_start: int
    bg_doc_len: Int32Array
    bg_terms: Int32Array
    bg_indptr: IntArray
    bg_docs: Int32Array
    bg_tfs: CountArray
    # Set when loaded from disk: the postings are then read by pread (see index.bm25.DiskSlices).
    disk_docs: DiskSlices | None = field(default=None, repr=False, compare=False)
    disk_tfs: DiskSlices | None = field(default=None, repr=False, compare=False)

    @property
    def n_docs(self) -> int:
        """How many documents the segment holds."""
        return int(self.bg_doc_len.shape[0])

    def save(self, directory: Path) -> None:
        """Write the arrays as .npy files beside the word field's."""
        for name in BIGRAM_ARRAYS:
            np.save(directory / f"{name}.npy", getattr(self, name), allow_pickle=False)

    @classmethod
    def load(cls, directory: Path, doc_start: int) -> BigramSegment:
        """Read (memory-mapped) what `save` wrote; raises ValueError when it is inconsistent."""
        mapped = {name: open_array(directory / f"{name}.npy") for name in BIGRAM_ARRAYS}
        arrays: dict[str, Any] = {name: np.asarray(array) for name, array in mapped.items()}
        segment = cls(doc_start=doc_start, **arrays)
        if segment.bg_indptr.shape[0] != segment.bg_terms.shape[0] + 1 or int(segment.bg_indptr[-1]) != int(
            segment.bg_docs.shape[0]
        ):
            raise ValueError("bigram pointers do not match the postings")
        if segment.bg_tfs.shape != segment.bg_docs.shape:
            raise ValueError("bigram arrays differ in size")
        segment.disk_docs = DiskSlices(directory / "bg_docs.npy", mapped["bg_docs"])
        segment.disk_tfs = DiskSlices(directory / "bg_tfs.npy", mapped["bg_tfs"])
        return segment

    def close(self) -> None:
        """Release the files the postings are read from."""
        for disk in (self.disk_docs, self.disk_tfs):
            if disk is not None:
                disk.close()
        self.disk_docs = self.disk_tfs = None


def build_bigram_segment(docs: list[BigramDoc], doc_start: int) -> BigramSegment:
    """A segment from per-document bigram bags."""
    lengths = np.array([d.terms.shape[0] for d in docs], dtype=np.int64)
    if not docs:
        return bigram_segment_of(lengths, np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.uint8), doc_start)
    terms = np.concatenate([d.terms for d in docs])
    return bigram_segment_of(lengths, terms, compact_counts(np.concatenate([d.tfs for d in docs])), doc_start)


Bags = tuple[npt.NDArray[np.integer[Any]], Int32Array, CountArray]


def bigram_segment_of(
    lengths: npt.NDArray[np.integer[Any]],
    terms: Int32Array,
    tfs: CountArray,
    doc_start: int,
    bag_of_doc: Sequence[int] | None = None,
) -> BigramSegment:
    """A segment from bags laid end to end: `lengths[i]` sorted bigram ids of bag i (and their
    counts in `tfs`). Document i has bag `bag_of_doc[i]` (by default bag i): a build segments
    each distinct text once, so a bag may serve several documents, or none."""
    return bigram_segment_of_blocks([(lengths, terms, tfs)], doc_start, bag_of_doc)


def bigram_segment_of_blocks(
    blocks: Sequence[Bags], doc_start: int, bag_of_doc: Sequence[int] | None = None
) -> BigramSegment:
    """`bigram_segment_of` over blocks of bags (lengths, terms, tfs), the bags numbered across
    them: the chunks of a build, never joined into one array."""
    bag_len = np.concatenate([sums_by_run(tfs, lengths) for lengths, _, tfs in blocks]) if blocks else _NO_LENGTHS
    which = np.arange(bag_len.shape[0]) if bag_of_doc is None else np.asarray(bag_of_doc, dtype=np.int64)
    parts = _parts_by_doc(blocks, which)
    bg_terms, indptr, docs, sorted_tfs = postings_by_term(parts, int(which.shape[0]))
    return BigramSegment(
        doc_start=doc_start,
        bg_doc_len=bag_len[which].astype(np.int32),
        bg_terms=bg_terms,
        bg_indptr=indptr,
        bg_docs=docs,
        bg_tfs=compact_counts(sorted_tfs),
    )


_NO_LENGTHS = np.zeros(0, dtype=np.int32)


def _parts_by_doc(blocks: Sequence[Bags], which: IntArray) -> list[Postings]:
    """The bags' entries with the documents they belong to: each bag's entries where they are
    for the first document that has it, copies only for the (few) other documents that have
    it too, nothing for a bag no document has."""
    sizes = [int(lengths.shape[0]) for lengths, _, _ in blocks]
    used, first_doc = np.unique(which, return_index=True)
    doc_of_bag = np.full(sum(sizes), -1, dtype=np.int32)
    doc_of_bag[used] = first_doc
    parts: list[Postings] = []
    starts = np.cumsum([0, *sizes])
    for (lengths, terms, tfs), start, size in zip(blocks, starts, sizes, strict=False):
        owners = doc_of_bag[start : start + size]
        docs = np.repeat(owners, lengths)
        if (owners < 0).any():
            kept = docs >= 0
            terms, tfs, docs = terms[kept], tfs[kept], docs[kept]
        parts.append((terms, tfs, docs))
    for doc in np.flatnonzero(doc_of_bag[which] != np.arange(which.shape[0])).tolist():
        bag = int(which[doc])
        block = int(np.searchsorted(starts, bag, side="right")) - 1
        lengths, terms, tfs = blocks[block]
        local = bag - int(starts[block])
        begin = int(lengths[:local].sum())
        end = begin + int(lengths[local])
        parts.append((terms[begin:end], tfs[begin:end], np.full(end - begin, doc, dtype=np.int32)))
    return parts


@dataclass
class Occurrences:
    """Where query bigrams occur in some documents: parallel arrays, one entry an occurrence."""

    doc: IntArray  # index into the documents asked about
    term: IntArray  # index into the query's bigrams
    position: IntArray


def text_occurrences(texts: list[str], codes: list[int]) -> Occurrences:
    """Every character offset of each query bigram (`codes`, by index) in each text.

    The texts are read as one: a line break between them pairs with nothing, so no bigram
    spans two texts, and one pass over the candidates costs less than one per candidate.
    """
    query = np.array(codes, dtype=np.int32)
    empty = np.zeros(0, dtype=np.int64)
    if not texts or not query.shape[0]:
        return Occurrences(empty, empty, empty)
    order = np.argsort(query, kind="stable")
    ranked = query[order]
    ids, offsets = bigram_stream("\n".join(texts))
    if not ids.shape[0]:
        return Occurrences(empty, empty, empty)
    at = np.minimum(np.searchsorted(ranked, ids), ranked.shape[0] - 1)
    hit = np.flatnonzero(ranked[at] == ids)
    # Where each text starts in the joined one (each followed by its line break).
    starts = np.zeros(len(texts), dtype=np.int64)
    np.cumsum(np.fromiter((len(t) + 1 for t in texts[:-1]), dtype=np.int64, count=len(texts) - 1), out=starts[1:])
    where = offsets[hit].astype(np.int64)
    doc = np.searchsorted(starts, where, side="right") - 1
    return Occurrences(doc, order[at[hit]].astype(np.int64), where - starts[doc])


class BigramIndex:
    """Exact BM25Okapi over the bigram field, and the positions of query bigrams.

    Contributions are computed per question rather than stored (the field has about as many
    postings as the word field; precomputed they would double the serving memory).
    """

    def __init__(self, segments: list[BigramSegment], params: BM25Params) -> None:
        self.segments = segments
        self.params = params
        lengths = [s.bg_doc_len for s in segments]
        self.doc_len = np.concatenate(lengths).astype(np.float64) if lengths else np.zeros(0, dtype=np.float64)
        self.n_docs = int(self.doc_len.shape[0])
        self.avgdl = float(self.doc_len.sum() / self.n_docs) if self.n_docs else 0.0
        # A bigram's df is read from the pointers of its postings when asked (one segment), and
        # its idf from a table by df: the same values as an idf array a term, in a fraction of
        # the memory (a large archive has millions of distinct bigrams, and far fewer df values).
        self._df: IntArray | None = None
        if not segments:
            self.terms = np.zeros(0, dtype=np.int32)
            df = np.zeros(0, dtype=np.int64)
            self._df = df
        elif len(segments) == 1:
            self.terms = segments[0].bg_terms  # memory-mapped, not copied
            df = np.diff(read_whole(segments[0].bg_indptr))
        else:
            self.terms = np.unique(np.concatenate([s.bg_terms for s in segments]))
            df = np.zeros(self.terms.shape[0], dtype=np.int64)
            for s in segments:
                np.add.at(df, np.searchsorted(self.terms, s.bg_terms), np.diff(read_whole(s.bg_indptr)))
            self._df = df
        self._idf_by_df = self._idf_table(df.astype(np.int64))
        k1, b = params.k1, params.b
        self._norm = k1 * (1.0 - b + b * self.doc_len / self.avgdl) if self.n_docs and self.avgdl else self.doc_len

    def _idf_table(self, df: IntArray) -> FloatArray:
        """idf by df. As rank-bm25's BM25Okapi: negative idfs become epsilon times the mean idf
        (the mean over every bigram, as each one's idf)."""
        if not df.shape[0]:
            return np.zeros(1, dtype=np.float64)
        values = np.log(self.n_docs - df + 0.5) - np.log(df + 0.5)
        average = float(values.sum() / values.shape[0])
        counts = np.arange(int(df.max()) + 1, dtype=np.int64)
        table = np.log(self.n_docs - counts + 0.5) - np.log(counts + 0.5)
        table[table < 0] = self.params.epsilon * average
        return table

    def _term_df(self, at: IntArray) -> IntArray:
        """The df of the bigrams at these positions of `terms`."""
        if self._df is not None:
            return self._df[at]
        indptr = self.segments[0].bg_indptr
        return (indptr[at + 1] - indptr[at]).astype(np.int64)

    @property
    def idf(self) -> FloatArray:
        """Every bigram's idf, in `terms` order (a full pass: for tests and diagnostics)."""
        at = np.arange(self.terms.shape[0], dtype=np.int64)
        return self._idf_by_df[self._term_df(at)] if at.shape[0] else np.zeros(0, dtype=np.float64)

    def term_idf(self, code: int) -> float:
        """The idf a bigram scores with (0 when no document has it)."""
        pos = int(self.terms.searchsorted(np.int32(code)))
        if pos >= self.terms.shape[0] or int(self.terms[pos]) != code:
            return 0.0
        return float(self._idf_by_df[self._term_df(np.array([pos], dtype=np.int64))[0]])

    @staticmethod
    def _positions_in(terms: Int32Array, query: Int32Array) -> tuple[IntArray, npt.NDArray[np.bool_]]:
        at = np.searchsorted(terms, query)
        if not terms.shape[0]:
            return at, np.zeros(query.shape[0], dtype=bool)
        clipped = np.minimum(at, terms.shape[0] - 1)
        return clipped, terms[clipped] == query

    def scores(self, codes: list[int], out: FloatArray | None = None) -> FloatArray:
        """The BM25 score of every document for the query bigrams (repeats count, as in rank-bm25);
        `out` as in `BM25Index.scores`."""
        scores = zeroed(out, self.n_docs)
        if not codes or not self.n_docs:
            return scores
        k1 = self.params.k1
        query = np.array(codes, dtype=np.int32)
        at, known = self._positions_in(self.terms, query)
        idfs = np.where(known, self._idf_by_df[self._term_df(at)], 0.0).tolist()
        for segment in self.segments:
            where, present = self._positions_in(segment.bg_terms, query)
            norm = self._norm[segment.doc_start : segment.doc_start + segment.n_docs]
            part = scores[segment.doc_start : segment.doc_start + segment.n_docs]
            indptr = segment.bg_indptr
            for number in np.flatnonzero(present).tolist():
                idf = idfs[number]
                if idf == 0.0:
                    continue
                found = int(where[number])
                start, end = int(indptr[found]), int(indptr[found + 1])
                docs = read_slices(segment.bg_docs, segment.disk_docs, start, end)
                tfs = read_slices(segment.bg_tfs, segment.disk_tfs, start, end)
                add_contributions(part, docs, tfs, norm, idf, k1)
        return scores


__all__ = [
    "BIGRAM_ARRAYS",
    "BigramDoc",
    "BigramIndex",
    "BigramSegment",
    "Occurrences",
    "bigram_bags",
    "bigram_segment_of",
    "bigram_segment_of_blocks",
    "bigram_stream",
    "bigram_text",
    "build_bigram_segment",
    "document_bigrams",
    "query_bigrams",
    "text_occurrences",
    "token_bigrams",
    "weighted_text",
]
