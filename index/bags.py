"""The bags of words and bigrams of many articles, segmented on every core, and the growing
vocabulary that numbers their words (the term ids of vocab.txt)."""

from __future__ import annotations

import ctypes
import multiprocessing
import threading
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from itertools import chain, pairwise
from typing import Any

import numpy as np
import numpy.typing as npt

from index.article import Article
from index.bigram import bigram_bags
from index.bm25 import CountArray, Int32Array, IntArray
from index.indexed_text import document_words, folded_weighted_text
from index.neardup import signatures
from index.normalize import for_matching
from index.settings import IndexParams
from index.tokenize import Tokenizer

# Below this many articles to segment, forking workers costs more than it saves.
PARALLEL_MIN_DOCS = 500
# Articles per task handed to a worker: small enough to balance the load at the end.
CHUNK_MIN_DOCS = 16
CHUNK_MAX_DOCS = 2048
# Distinct words a segmenting worker remembers the tokens of (about 120 MB at most): half the
# 68k bench archive has 250k, and a word forgotten is looked up again.
WORKER_WORD_CACHE_SIZE = 500_000


@dataclass
class Chunk:
    """The bags of words and bigrams of a run of articles, in a form that is cheap to pickle.

    `terms` number the chunk's own `words`; the parent maps those once per chunk instead of
    looking up every token of every article. Words are only there for the articles asked to
    be segmented (`lengths` has one entry for each of those); bigrams and signatures are there
    for every article (they cost a small share of segmenting, no dictionary involved).
    """

    words: list[str]
    lengths: Int32Array
    terms: Int32Array
    tfs: Int32Array
    bg_lengths: Int32Array
    bg_terms: Int32Array
    bg_tfs: CountArray
    minhash: npt.NDArray[np.uint32]


class _Numbers(dict[str, int]):
    """Numbers for strings, in the order they are first asked for (a lookup a string)."""

    def __missing__(self, key: str) -> int:
        number = self[key] = len(self)
        return number


class _ChunkTerms:
    """A chunk's words and the tokens they give, numbered in the order tokens first occur.

    Per document only its words' numbers are kept, in order; at the end each distinct word's
    tokens are looked up once and the bags expanded from words to token counts with array
    operations (one sort sums them), instead of counting and looping per token of every
    document.
    """

    def __init__(self, tokenizer: Tokenizer) -> None:
        self.tokenizer = tokenizer
        self.word_ids = _Numbers()
        self.words: list[int] = []
        self.sizes: list[int] = []

    def add(self, words: list[str]) -> None:
        """One document's words, in order, repeats and all (summed with the tokens' counts)."""
        self.words.extend(map(self.word_ids.__getitem__, words))
        self.sizes.append(len(words))

    def bags(self) -> tuple[list[str], Int32Array, Int32Array, Int32Array]:
        """(tokens by id, each document's number of distinct tokens, their ids document after
        document, each sorted, and their counts)."""
        words = np.array(self.words, dtype=np.int64)
        found = self.tokenizer.tokens_of_words(list(self.word_ids))
        # Tokens numbered in the order they first occur, as the words that give them are.
        token_ids = _Numbers()
        laid = list(map(token_ids.__getitem__, chain.from_iterable(found)))
        word_tokens = np.array(laid, dtype=np.int64)
        ends = np.zeros(len(found) + 1, dtype=np.int64)
        np.cumsum(np.fromiter(map(len, found), dtype=np.int64, count=len(found)), out=ends[1:])
        per_word = (ends[1:] - ends[:-1])[words]
        entry = np.repeat(np.arange(words.shape[0], dtype=np.int64), per_word)
        first = np.cumsum(per_word) - per_word
        within = np.arange(entry.shape[0], dtype=np.int64) - first[entry]
        tokens = word_tokens[ends[:-1][words][entry] + within]
        n_docs = len(self.sizes)
        owner = np.repeat(np.arange(n_docs, dtype=np.int64), self.sizes)[entry]
        terms, tfs, lengths = _summed_by_document(owner, tokens, np.ones_like(tokens), n_docs)
        return list(token_ids), lengths, terms, tfs


def _summed_by_document(
    owner: IntArray, tokens: npt.NDArray[np.integer[Any]], counts: npt.NDArray[np.integer[Any]], n_docs: int
) -> tuple[Int32Array, Int32Array, Int32Array]:
    """Each document's distinct tokens, sorted, and their summed counts: a token given by two
    words of a document counts once, with both words' counts. (token ids, counts, number of
    distinct tokens of each document)."""
    token_bits = max(1, int(tokens.max(initial=0)).bit_length())
    count_bits = max(1, int(counts.max(initial=0)).bit_length())
    if max(1, n_docs.bit_length()) + token_bits + count_bits <= 63:
        # One sort of packed (document, token, count) keys: far cheaper than np.unique's argsort.
        keys = ((owner << token_bits | tokens) << count_bits) | counts
        keys.sort()
        pairs = keys >> count_bits
        starts = np.flatnonzero(np.concatenate(([True], pairs[1:] != pairs[:-1]))) if keys.shape[0] else pairs[:0]
        summed = np.add.reduceat(keys & ((1 << count_bits) - 1), starts) if keys.shape[0] else keys[:0]
        distinct = pairs[starts]
    else:
        distinct, where = np.unique(owner << token_bits | tokens, return_inverse=True)
        summed = np.bincount(where, weights=counts.astype(np.float64)).astype(np.int64)
    lengths = np.bincount(distinct >> token_bits, minlength=n_docs).astype(np.int32)
    return (distinct & ((1 << token_bits) - 1)).astype(np.int32), summed.astype(np.int32), lengths


def _segment_articles(
    tokenizer: Tokenizer, params: IndexParams, articles: Sequence[Article], wanted: Sequence[bool]
) -> Chunk:
    terms = _ChunkTerms(tokenizer)
    # Step by step over the chunk rather than article by article: the segmenter's dictionary
    # and the arrays of the signatures stay in the processor's caches (15% faster).
    bodies = [for_matching(article.body) for article in articles]  # folded once for all three
    texts = [folded_weighted_text(article, params, body) for article, body in zip(articles, bodies, strict=True)]
    minhash = signatures(bodies, folded=True)
    for article, body, segment_words in zip(articles, bodies, wanted, strict=True):
        if segment_words:
            terms.add(document_words(tokenizer, article, params, body))
    return Chunk(
        *terms.bags(),
        *bigram_bags(texts),
        minhash,
    )


# What forked workers segment: set just before the fork so that they inherit the articles and
# the loaded dictionary instead of receiving pickles or loading jieba again.
_fork_job: tuple[Tokenizer, IndexParams, Sequence[Article], Sequence[bool]] | None = None
_fork_lock = threading.Lock()


def _segment_range(bounds: tuple[int, int]) -> Chunk:
    assert _fork_job is not None, "worker started without a job"
    tokenizer, params, articles, wanted = _fork_job
    if tokenizer.word_cache_size != WORKER_WORD_CACHE_SIZE:  # this process's first chunk
        tokenizer.word_cache_size = WORKER_WORD_CACHE_SIZE  # this process's copy only
        _keep_freed_memory()
    return _segment_articles(tokenizer, params, articles[bounds[0] : bounds[1]], wanted[bounds[0] : bounds[1]])


def _keep_freed_memory() -> None:
    """Have glibc's malloc reuse the memory a chunk's arrays free for the next chunk's, instead
    of handing it back to the system and faulting fresh zeroed pages in again (a worker at 68k
    took 230k page faults, 49k so). Only in a worker, which lives for one build; elsewhere, or
    without glibc, nothing changes."""
    try:
        libc = ctypes.CDLL("libc.so.6")
    except OSError:
        return
    libc.mallopt(_M_MMAP_MAX, 0)
    libc.mallopt(_M_TRIM_THRESHOLD, 1 << 30)


_M_TRIM_THRESHOLD, _M_MMAP_MAX = -1, -4  # glibc's <malloc.h>


class Segmenter:
    """Segments articles in worker processes (or in this one), yielding chunks in article order.

    The workers start on entering and segment ahead of the caller, which maps each chunk's
    words into the vocabulary as it comes.
    """

    def __init__(
        self,
        articles: Sequence[Article],
        tokenizer: Tokenizer,
        params: IndexParams,
        workers: int,
        wanted: Sequence[bool] | None = None,
    ) -> None:
        self.articles = articles
        # Which articles need their words segmented (the others only their bigrams).
        self.wanted = list(wanted) if wanted is not None else [True] * len(articles)
        self.tokenizer = tokenizer
        self.params = params
        self.workers = workers if len(articles) >= PARALLEL_MIN_DOCS else 1
        size = max(CHUNK_MIN_DOCS, min(CHUNK_MAX_DOCS, len(articles) // (self.workers * 16) or 1))
        self.ranges = [(start, min(start + size, len(articles))) for start in range(0, len(articles), size)]
        self._pool: Any = None

    def __enter__(self) -> Iterator[Chunk]:
        global _fork_job
        if not self.articles:
            return iter(())
        self.tokenizer.initialize()
        if self.workers <= 1:
            return (
                _segment_articles(self.tokenizer, self.params, self.articles[a:b], self.wanted[a:b])
                for a, b in self.ranges
            )
        with _fork_lock:
            _fork_job = (self.tokenizer, self.params, self.articles, self.wanted)
            try:
                self._pool = multiprocessing.get_context("fork").Pool(self.workers)
            finally:
                _fork_job = None
        chunks: Iterator[Chunk] = self._pool.imap(_segment_range, self.ranges)
        return chunks

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()


class Vocabulary:
    """The terms of the index being written, a term's id its position; new words take the next ids."""

    def __init__(self, terms: list[str]) -> None:
        self.terms = list(terms)
        self.ids = {term: number for number, term in enumerate(self.terms)}

    def numbers(self, words: list[str]) -> Int32Array:
        """The ids of words, giving new words the next free ids."""
        ids = self.ids
        found = list(map(ids.get, words))  # one lookup a word: the vocabulary is large
        if None in found:
            terms = self.terms
            for position, number in enumerate(found):
                if number is None:
                    word = words[position]
                    number = ids.get(word)  # the same new word twice in `words`
                    if number is None:
                        number = ids[word] = len(terms)
                        terms.append(word)
                    found[position] = number
        return np.array(found, dtype=np.int32)

    def bags(self, chunk: Chunk) -> list[tuple[Int32Array, Int32Array]]:
        """The chunk's bags in global term ids, each sorted by term id."""
        return chunk_bags(chunk, self.numbers)


class VocabularyExtension:
    """An index's vocabulary looked up in its sorted files, new words numbered after its terms:
    publishing one issue neither reads nor copies the whole vocabulary into a dict."""

    def __init__(self, known: Mapping[str, int]) -> None:
        self.known = known
        self.first_new_id = len(known)
        self.new_terms: list[str] = []
        self._new_ids: dict[str, int] = {}

    def numbers(self, words: list[str]) -> Int32Array:
        """The ids of words, giving new words the next free ids."""
        known, fresh = self.known, self._new_ids
        ids = np.empty(len(words), dtype=np.int32)
        for position, word in enumerate(words):
            number = known.get(word)
            if number is None:
                number = fresh.get(word)
                if number is None:
                    number = fresh[word] = self.first_new_id + len(self.new_terms)
                    self.new_terms.append(word)
            ids[position] = number
        return ids

    def bags(self, chunk: Chunk) -> list[tuple[Int32Array, Int32Array]]:
        """The chunk's bags in global term ids, each sorted by term id."""
        return chunk_bags(chunk, self.numbers)


def chunk_bags(chunk: Chunk, numbers: Callable[[list[str]], Int32Array]) -> list[tuple[Int32Array, Int32Array]]:
    """A chunk's bags in the ids `numbers` gives its words, each sorted by term id."""
    if not chunk.lengths.shape[0]:
        return []  # a chunk whose articles all kept their previous words
    terms = numbers(chunk.words)[chunk.terms]
    n_docs = int(chunk.lengths.shape[0])
    owner = np.repeat(np.arange(n_docs, dtype=np.int64), chunk.lengths)
    # A document's terms are distinct, so summing by (document, term) only orders them.
    sorted_terms, sorted_tfs, _ = _summed_by_document(owner, terms, chunk.tfs, n_docs)
    bounds = np.zeros(n_docs + 1, dtype=np.int64)
    np.cumsum(chunk.lengths, out=bounds[1:])
    return [(sorted_terms[a:b], sorted_tfs[a:b]) for a, b in pairwise(bounds.tolist())]
