"""The index directory on disk: building it, loading it, adding a published issue to it.

Layout (every file written whole, then renamed into place):

    meta.json        format version, parameters, corpus fingerprint, segments, skipped files
    vocab.txt        one term a line; a term's id is its line number
    vocab-sorted.*   the same terms sorted, for lookups while serving (index/vocabulary.py)
    userdict.txt     the local names the segmenter was taught
    issues.json      the issues and their article ids
    seg-NNN/         one segment: BM25 arrays (.npy) of the word field and of the
                     character-bigram field with its positions (bg_*.npy, see index.bigram),
                     minhash.npy (near-duplicate signatures, see index.neardup),
                     articles.jsonl + offsets.npy, hashes.txt (content hash of each
                     article), ids.txt (article ids)

An index of another format version, or one whose files do not fit together, raises
`IndexUnusable`; callers report it and rebuild. A rebuild reuses the bags of words of
unchanged articles from the previous index (by content hash), so only new text is segmented,
and that on every core.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import json
import logging
import multiprocessing
import os
import shutil
import threading
import time
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, BinaryIO

import numpy as np
import numpy.typing as npt

from index.arrays import load_array, open_array
from index.article import Article
from index.atomic import exchange, temporary_name
from index.bigram import (
    BIGRAM_ARRAYS,
    BigramDoc,
    BigramIndex,
    BigramSegment,
    bigram_bags,
    bigram_segment_of,
    weighted_text,
)
from index.bm25 import (
    SEGMENT_ARRAYS,
    BM25Index,
    BM25Params,
    CountArray,
    DiskSlices,
    Int32Array,
    Segment,
    build_segment,
    compact_counts,
)
from index.corpus import CorpusLoad, Issue, Skipped, corpus_fingerprint, load_corpus
from index.neardup import N_HASHES, SignatureFiles, signature
from index.normalize import for_matching
from index.segmenter import SEGMENTERS
from index.segmenter import resolve as resolve_segmenter
from index.tokenize import Tokenizer, build_user_words, default_local_names, default_stopwords
from index.vocabulary import SORTED_FILES, TermIds, write_sorted

log = logging.getLogger(__name__)

# 3: the character-bigram field with positions, and near-duplicate signatures.
FORMAT_VERSION = 3
MINHASH = "minhash.npy"
# Articles shown as answers (the candidates' text is cached apart, by index.search, as one string each).
ARTICLE_CACHE_SIZE = 512
# Bump when what an article contributes to the index changes (fields, weights, segmentation).
TEXT_LAYOUT_VERSION = 3
META = "meta.json"
# Below this many articles to segment, forking workers costs more than it saves.
PARALLEL_MIN_DOCS = 500
# Articles per task handed to a worker: small enough to balance the load at the end.
CHUNK_MIN_DOCS = 16
CHUNK_MAX_DOCS = 512

Progress = Callable[[str, int, int], None]


class EmptyCorpus(ValueError):
    """Not one article could be read from `corpus_dir` (`skipped` files were refused); nothing is built."""

    def __init__(self, corpus_dir: Path, skipped: int) -> None:
        super().__init__(f"no articles could be read from {corpus_dir}")
        self.corpus_dir = corpus_dir
        self.skipped = skipped


class IndexUnusable(Exception):
    """The index directory is missing, of another version, or damaged."""


@dataclass(frozen=True)
class IndexParams:
    """Everything that changes what the index holds; a change means a rebuild."""

    k1: float = 1.5
    b: float = 0.75
    epsilon: float = 0.25
    title_weight: int = 3
    caption_weight: int = 1
    # "auto" (rjieba when installed, else jieba), "rjieba" or "jieba"; the index records which ran.
    segmenter: str = "auto"

    def __post_init__(self) -> None:
        if self.segmenter not in ("auto", *SEGMENTERS):
            raise ValueError(f"segmenter: expected auto, {', '.join(SEGMENTERS)}, got {self.segmenter!r}")

    @property
    def bm25(self) -> BM25Params:
        """The scoring part."""
        return BM25Params(self.k1, self.b, self.epsilon)


def _shipped_words_signature() -> str:
    digest = hashlib.sha1(f"layout {TEXT_LAYOUT_VERSION}\n".encode())
    digest.update("\n".join(sorted(default_stopwords())).encode())
    digest.update("\n".join(default_local_names()).encode())
    return digest.hexdigest()[:16]


def weighted_text_parts(article: Article, params: IndexParams) -> list[tuple[str, int]]:
    """The article's fields and how many times each one's tokens count."""
    # Where the article appeared counts as text once: residents name their street in questions.
    where = " ".join(dict.fromkeys(p for p in (article.street, article.district, article.newspaper) if p))
    parts = [(article.index_title, params.title_weight), (where, 1), (article.body, 1)]
    parts.extend((caption, params.caption_weight) for caption in article.captions)
    return [(text, weight) for text, weight in parts if text and weight > 0]


def document_token_list(tokenizer: Tokenizer, article: Article, params: IndexParams) -> list[str]:
    """The token stream BM25 sees for an article: the title's tokens repeated by its weight."""
    tokens: list[str] = []
    for text, weight in weighted_text_parts(article, params):
        tokens.extend(tokenizer.document_tokens(text) * weight)
    return tokens


def content_hash(article: Article, params: IndexParams, signature: str) -> str:
    """What decides whether an article's bag of words can be reused."""
    digest = hashlib.sha1(signature.encode())
    for text, weight in weighted_text_parts(article, params):
        digest.update(f"\0{weight}\0{text}".encode())
    return digest.hexdigest()[:20]


# --- segmentation, on every core ------------------------------------------------------


def _folded_weighted_text(article: Article, params: IndexParams, folded_body: str | None = None) -> str:
    parts = weighted_text_parts(article, params)
    return weighted_text(
        [
            (folded_body if folded_body is not None and text is article.body else for_matching(text), weight)
            for text, weight in parts
        ]
    )


def document_bigram_bag(article: Article, params: IndexParams, folded_body: str | None = None) -> BigramDoc:
    """The article's character bigrams, from the same weighted parts as its words."""
    _, terms, tfs = bigram_bags([_folded_weighted_text(article, params, folded_body)])
    return BigramDoc(terms, tfs.astype(np.int32))


@dataclass
class _Chunk:
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


def _joined_bigrams(chunks: list[_Chunk], order: list[int] | None = None) -> tuple[Int32Array, Int32Array, CountArray]:
    """The chunks' bigram bags laid end to end (`bigram_segment_of`'s input), the documents
    taken in `order` (indexes into the chunks' documents) when given."""
    if not chunks:
        return np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.int32), np.zeros(0, dtype=np.uint8)
    lengths = np.concatenate([c.bg_lengths for c in chunks]).astype(np.int64)
    terms = np.concatenate([c.bg_terms for c in chunks])
    tfs = compact_counts(np.concatenate([c.bg_tfs for c in chunks]))
    if order is None or order == list(range(lengths.shape[0])):
        return lengths.astype(np.int32), terms, tfs
    # Each document's run of bags, wherever it lies, gathered in one index array.
    picked = np.array(order, dtype=np.int64)
    starts = np.zeros(lengths.shape[0], dtype=np.int64)
    np.cumsum(lengths[:-1], out=starts[1:])
    wanted = lengths[picked]
    placed = np.zeros(wanted.shape[0], dtype=np.int64)
    np.cumsum(wanted[:-1], out=placed[1:])
    index = np.arange(int(wanted.sum()), dtype=np.int64) + np.repeat(starts[picked] - placed, wanted)
    return wanted.astype(np.int32), terms[index], tfs[index]


def _segment_articles(
    tokenizer: Tokenizer, params: IndexParams, articles: Sequence[Article], wanted: Sequence[bool]
) -> _Chunk:
    words: dict[str, int] = {}
    lengths: list[int] = []
    terms: list[int] = []
    tfs: list[int] = []
    texts: list[str] = []
    minhash: list[npt.NDArray[np.uint32]] = []
    for article, segment_words in zip(articles, wanted, strict=True):
        body = for_matching(article.body)  # folded once for both
        texts.append(_folded_weighted_text(article, params, body))
        minhash.append(signature(body, folded=True))
        if not segment_words:
            continue
        counts = Counter(document_token_list(tokenizer, article, params))
        lengths.append(len(counts))
        for token, count in counts.items():
            terms.append(words.setdefault(token, len(words)))
            tfs.append(count)
    return _Chunk(
        list(words),
        np.array(lengths, dtype=np.int32),
        np.array(terms, dtype=np.int32),
        np.array(tfs, dtype=np.int32),
        *bigram_bags(texts),
        np.stack(minhash) if minhash else np.zeros((0, N_HASHES), dtype=np.uint32),
    )


# What forked workers segment: set just before the fork so that they inherit the articles and
# the loaded dictionary instead of receiving pickles or loading jieba again.
_fork_job: tuple[Tokenizer, IndexParams, Sequence[Article], Sequence[bool]] | None = None
_fork_lock = threading.Lock()


def _segment_range(bounds: tuple[int, int]) -> _Chunk:
    assert _fork_job is not None, "worker started without a job"
    tokenizer, params, articles, wanted = _fork_job
    return _segment_articles(tokenizer, params, articles[bounds[0] : bounds[1]], wanted[bounds[0] : bounds[1]])


class _Segmenter:
    """Segments articles in worker processes (or in this one), yielding chunks in article order.

    The workers start on entering, so the caller can do other work (writing the articles
    file) while they segment.
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

    def __enter__(self) -> Iterator[_Chunk]:
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
        chunks: Iterator[_Chunk] = self._pool.imap(_segment_range, self.ranges)
        return chunks

    def __exit__(self, *exc: object) -> None:
        if self._pool is not None:
            self._pool.terminate()
            self._pool.join()


# --- the article store ----------------------------------------------------------------


def _article_line(article: Article) -> bytes:
    # The same record as Article.to_dict, without dataclasses.asdict's deep copy (a fifth of
    # the time of writing 68k articles); a test holds the two equal.
    record = {**vars(article), "title": article.title}
    return json.dumps(record, ensure_ascii=False).encode() + b"\n"


class ArticleFile:
    """Articles of one segment, read on demand from a JSON-lines file (thread-safe)."""

    def __init__(self, path: Path, offsets: np.ndarray) -> None:
        self.path = path
        self.offsets = offsets
        self._fd = os.open(path, os.O_RDONLY)

    def __len__(self) -> int:
        return int(self.offsets.shape[0]) - 1

    def get(self, local: int) -> Article:
        """One article by its local number."""
        return Article.from_dict(self.record(local))

    def record(self, local: int) -> dict[str, Any]:
        """One article's stored record (Article.to_dict's shape), without making an Article."""
        start, end = int(self.offsets[local]), int(self.offsets[local + 1])
        data = json.loads(os.pread(self._fd, end - start, start))
        if not isinstance(data, dict):
            raise ValueError(f"article record {local} of {self.path} is not an object")
        return data

    def close(self) -> None:
        """Release the file descriptor."""
        with contextlib.suppress(OSError):
            os.close(self._fd)

    @staticmethod
    def write(path: Path, articles: Iterable[Article]) -> np.ndarray:
        """Write articles, returning the byte offsets of each line (and of the end)."""
        offsets = [0]
        with path.open("wb") as handle:
            for article in articles:
                line = _article_line(article)
                handle.write(line)
                offsets.append(offsets[-1] + len(line))
        return np.array(offsets, dtype=np.int64)


# --- building -------------------------------------------------------------------------


@dataclass
class BuildReport:
    """What a build did."""

    n_articles: int = 0
    n_issues: int = 0
    reused: int = 0
    segmented: int = 0
    seconds: float = 0.0
    skipped: list[Skipped] = field(default_factory=list)


def _write_text(path: Path, text: str) -> None:
    tmp = temporary_name(path)
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def _write_json(path: Path, data: Any) -> None:
    _write_text(path, json.dumps(data, ensure_ascii=False, indent=1))


def _write_lines(path: Path, lines: Iterable[str]) -> None:
    _write_text(path, "\n".join(lines))


# The small files add_articles rewrites. It writes new copies under new names and meta.json,
# written last, names them (`files`), so a reader or a crash sees the old generation or the new
# one, never a mix. A freshly built index uses the plain names.
GENERATION_FILES = ("vocab.txt", "userdict.txt", "issues.json", *SORTED_FILES)


def index_file(directory: Path, meta: dict[str, Any], name: str) -> Path:
    """Where this generation of an index keeps `name` (one of GENERATION_FILES)."""
    return directory / str((meta.get("files") or {}).get(name, name))


def _count_lines(path: Path) -> int:
    """How many lines `_write_lines` wrote, without keeping them."""
    data = path.read_bytes()
    return data.count(b"\n") + 1 if data else 0


def _read_lines(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return text.split("\n") if text else []


class _Vocabulary:
    def __init__(self, terms: list[str]) -> None:
        self.terms = list(terms)
        self.ids = {term: number for number, term in enumerate(self.terms)}

    def numbers(self, words: list[str]) -> Int32Array:
        """The ids of words, giving new words the next free ids."""
        ids = self.ids
        for word in words:
            if word not in ids:
                ids[word] = len(self.terms)
                self.terms.append(word)
        return np.fromiter((ids[word] for word in words), dtype=np.int32, count=len(words))

    def bags(self, chunk: _Chunk) -> list[tuple[Int32Array, Int32Array]]:
        """The chunk's bags in global term ids, each sorted by term id."""
        if not chunk.lengths.shape[0]:
            return []  # a chunk whose articles all kept their previous words
        terms = self.numbers(chunk.words)[chunk.terms]
        owner = np.repeat(np.arange(chunk.lengths.shape[0]), chunk.lengths)
        order = np.lexsort((terms, owner))
        cuts = np.cumsum(chunk.lengths)[:-1]
        return list(zip(np.split(terms[order], cuts), np.split(chunk.tfs[order], cuts), strict=True))


class _PreviousIndex:
    """The index being replaced, as far as a rebuild can reuse it: bags of words by content hash.

    Empty when there is none, it was written by another version or tokenizer, or it is damaged.
    Its arrays stay memory-mapped until `close`, so reusing a bag copies nothing.
    """

    def __init__(self) -> None:
        self.terms: list[str] = []
        self.segments: list[Segment] = []
        self.directories: list[Path] = []
        self.hashes: list[str] = []
        self.where: dict[str, tuple[Segment, int]] = {}

    @classmethod
    def open(cls, directory: Path, signature: str) -> _PreviousIndex:
        previous = cls()
        try:
            meta = json.loads((directory / META).read_text(encoding="utf-8"))
            if meta.get("format_version") != FORMAT_VERSION or meta.get("tokenizer") != signature:
                return previous
            terms = _read_lines(index_file(directory, meta, "vocab.txt"))
            for entry in meta["segments"]:
                seg_dir = directory / entry["name"]
                segment = Segment.load(seg_dir, 0)
                hashes = _read_lines(seg_dir / "hashes.txt")
                if len(hashes) != segment.n_docs or int(segment.fwd_terms.max(initial=-1)) >= len(terms):
                    raise ValueError(f"{entry['name']} does not fit its vocabulary or hashes")
                previous.segments.append(segment)
                previous.directories.append(seg_dir)
                previous.hashes.extend(hashes)
                for local, digest in enumerate(hashes):
                    previous.where[digest] = (segment, local)
            previous.terms = terms
        except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
            log.info("not reusing the previous index (%s)", exc)
            return cls()
        return previous

    def bag(self, digest: str) -> tuple[Int32Array, CountArray]:
        """The bag of words of an article with this content hash (KeyError when there is none)."""
        segment, local = self.where[digest]
        return segment.bag(local)

    def same_documents(self, hashes: list[str]) -> bool:
        """True when the new index would hold exactly the previous one-segment index's documents."""
        return len(self.segments) == 1 and self.hashes == hashes


def _link_or_copy(source: Path, target: Path) -> None:
    # Index files are never modified in place (always written whole and renamed), so a
    # hard link is as safe as a copy and costs nothing.
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def _segment_files(
    directory: Path,
    segment: Segment,
    bigrams: BigramSegment,
    minhash: np.ndarray,
    offsets: np.ndarray,
    hashes: list[str],
    ids: list[str],
) -> None:
    segment.save(directory)
    bigrams.save(directory)
    np.save(directory / MINHASH, minhash, allow_pickle=False)
    np.save(directory / "offsets.npy", offsets, allow_pickle=False)
    _write_lines(directory / "hashes.txt", hashes)
    _write_lines(directory / "ids.txt", ids)


def _save_segment(
    directory: Path,
    name: str,
    segment: Segment,
    bigrams: BigramSegment,
    minhash: np.ndarray,
    articles: list[Article],
    hashes: list[str],
) -> None:
    tmp = temporary_name(directory / name)
    tmp.mkdir(parents=True)
    offsets = ArticleFile.write(tmp / "articles.jsonl", articles)
    _segment_files(tmp, segment, bigrams, minhash, offsets, hashes, [a.id for a in articles])
    final = directory / name
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)


def _index_signature(params: IndexParams, tokenizer: Tokenizer) -> dict[str, Any]:
    return {
        "params": asdict(params),
        "tokenizer": tokenizer.signature,
        "segmenter": tokenizer.segmenter,
        "shipped": _shipped_words_signature(),
    }


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    params: IndexParams,
    *,
    workers: int = 0,
    progress: Progress | None = None,
    loaded: CorpusLoad | None = None,
) -> BuildReport:
    """Build the index of a corpus into `index_dir`, replacing what is there atomically.

    Only articles whose text is not in the current index are segmented (each distinct text
    once), on `workers` processes (0: one per core). Raises ValueError when the corpus
    yields no article at all (the old index stays).
    """
    started = time.perf_counter()
    fingerprint = corpus_fingerprint(corpus_dir)
    corpus = loaded if loaded is not None else load_corpus(corpus_dir)
    report = BuildReport(n_articles=len(corpus.articles), n_issues=len(corpus.issues), skipped=corpus.skipped)
    if not corpus.articles:
        raise EmptyCorpus(corpus_dir, len(corpus.skipped))
    user_words = build_user_words(
        [i.street for i in corpus.issues],
        # The same text a published issue teaches its names from (captions included).
        ("\n".join([a.title, a.body, *a.captions]) for a in corpus.articles if not a.derived_headline),
    )
    tokenizer = Tokenizer(user_words, segmenter=params.segmenter)
    signature = tokenizer.signature
    hashes = [content_hash(a, params, signature) for a in corpus.articles]
    previous = _PreviousIndex.open(index_dir, signature) if index_dir.exists() else _PreviousIndex()
    vocabulary = _Vocabulary(previous.terms)
    same = previous.same_documents(hashes)
    # Each distinct text once: its words when the previous index lacks them, its bigrams always
    # (unless the whole index is unchanged, when every file is reused as it is).
    todo: dict[str, Article] = {}
    if not same:
        for article, digest in zip(corpus.articles, hashes, strict=True):
            todo.setdefault(digest, article)
    wanted = [digest not in previous.where for digest in todo]
    total = len(corpus.articles)
    report.segmented = sum(1 for h in hashes if h not in previous.where)
    report.reused = total - report.segmented

    staging = index_dir.with_name(f"{index_dir.name}.building-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    seg_dir = staging / "seg-000"
    seg_dir.mkdir(parents=True)
    fresh: dict[str, tuple[Int32Array, CountArray]] = {}
    # Bigrams and signatures stay in the chunks' arrays (no object per article), in `todo` order.
    bigram_chunks: list[_Chunk] = []
    digests = list(todo)
    pending_words = iter(d for d, w in zip(digests, wanted, strict=True) if w)
    done = total - len(todo)
    with _Segmenter(list(todo.values()), tokenizer, params, workers or os.cpu_count() or 1, wanted) as chunks:
        # Written while the workers segment: this process would otherwise wait idle.
        offsets = ArticleFile.write(seg_dir / "articles.jsonl", corpus.articles)
        for chunk in chunks:
            for bag in vocabulary.bags(chunk):
                fresh[next(pending_words)] = bag
            chunk.words, chunk.terms, chunk.tfs = [], chunk.terms[:0], chunk.tfs[:0]  # mapped: not kept twice
            bigram_chunks.append(chunk)
            done += len(chunk.bg_lengths)
            if progress is not None:
                progress("segmenting", min(done, total), total)
    if same:
        segment = previous.segments[0]
        for name in (*SEGMENT_ARRAYS, *BIGRAM_ARRAYS):
            _link_or_copy(previous.directories[0] / f"{name}.npy", seg_dir / f"{name}.npy")
        _link_or_copy(previous.directories[0] / MINHASH, seg_dir / MINHASH)
        np.save(seg_dir / "offsets.npy", offsets, allow_pickle=False)
        _write_lines(seg_dir / "hashes.txt", hashes)
        _write_lines(seg_dir / "ids.txt", [a.id for a in corpus.articles])
    else:
        segment = build_segment([fresh[h] if h in fresh else previous.bag(h) for h in hashes], 0)
        position = {digest: number for number, digest in enumerate(digests)}
        order = [position[h] for h in hashes]
        bigrams = bigram_segment_of(*_joined_bigrams(bigram_chunks, order), 0)
        minhash = np.concatenate([c.minhash for c in bigram_chunks])[order]
        _segment_files(seg_dir, segment, bigrams, minhash, offsets, hashes, [a.id for a in corpus.articles])
    _write_lines(staging / "vocab.txt", vocabulary.terms)
    write_sorted(vocabulary.terms, {key: staging / key for key in SORTED_FILES})
    _write_lines(staging / "userdict.txt", user_words)
    _write_json(staging / "issues.json", [i.to_dict() for i in corpus.issues])
    meta = {
        "format_version": FORMAT_VERSION,
        **_index_signature(params, tokenizer),
        "corpus": {"path": str(corpus_dir), "fingerprint": fingerprint},
        "segments": [{"name": "seg-000", "n_docs": segment.n_docs}],
        "n_terms": len(vocabulary.terms),
        "skipped": [[s.path, s.reason] for s in corpus.skipped],
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    _write_json(staging / META, meta)
    swap_in(staging, index_dir)
    report.seconds = time.perf_counter() - started
    log.info(
        "indexed %d articles (%d segmented, %d reused) in %.1fs",
        total,
        report.segmented,
        report.reused,
        report.seconds,
    )
    return report


def swap_in(staging: Path, index_dir: Path) -> None:
    """Replace `index_dir` by `staging` with renames, so readers see one or the other.

    Where the kernel can exchange two names atomically (Linux renameat2), there is not even a
    moment without an index; elsewhere the old one is renamed away first.
    """
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    if index_dir.exists() and exchange(staging, index_dir):
        shutil.rmtree(staging, ignore_errors=True)  # now the old index
        return
    old = index_dir.with_name(f"{index_dir.name}.old-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    if index_dir.exists():
        index_dir.rename(old)
    staging.rename(index_dir)
    shutil.rmtree(old, ignore_errors=True)


# --- loading --------------------------------------------------------------------------


class LoadedIndex:
    """An index directory in memory: BM25 arrays, vocabulary, tokenizer, articles on demand."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        meta_path = directory / META
        if not meta_path.exists():
            raise IndexUnusable(f"no index at {directory}")
        try:
            meta = json.loads(meta_path.read_text(encoding="utf-8"))
        except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
            raise IndexUnusable(f"damaged index metadata ({exc})") from exc
        if not isinstance(meta, dict) or meta.get("format_version") != FORMAT_VERSION:
            found = meta.get("format_version") if isinstance(meta, dict) else None
            raise IndexUnusable(f"index format version {found}, this program reads {FORMAT_VERSION}")
        self.meta = meta
        id_files: list[BinaryIO] = []
        try:
            self.params = IndexParams(**meta["params"])
            n_terms = int(meta["n_terms"])
            self.term_ids = TermIds.open({name: index_file(directory, meta, name) for name in SORTED_FILES})
            vocab_lines = _count_lines(index_file(directory, meta, "vocab.txt"))
            if len(self.term_ids) != n_terms or vocab_lines != n_terms:
                raise ValueError("vocabulary size does not match the metadata")
            # The segmenter that built the index, whatever the settings say now: mixing two
            # segmenters' tokens would miss words (index_is_current reports the change).
            user_words = _read_lines(index_file(directory, meta, "userdict.txt"))
            self.tokenizer = Tokenizer(user_words, segmenter=meta["segmenter"])
            issues_text = index_file(directory, meta, "issues.json").read_text("utf-8")
            self.issues = [Issue(**i) for i in json.loads(issues_text)]
            segments: list[Segment] = []
            bigram_segments: list[BigramSegment] = []
            minhash: list[tuple[int, DiskSlices]] = []
            self.article_files: list[ArticleFile] = []
            start = 0
            for entry in meta["segments"]:
                seg_dir = directory / entry["name"]
                segment = Segment.load(seg_dir, start)
                offsets = load_array(seg_dir / "offsets.npy", mmap=False)
                if segment.n_docs != int(entry["n_docs"]) or offsets.shape[0] != segment.n_docs + 1:
                    raise ValueError(f"{entry['name']} holds another number of documents than recorded")
                # The inverted terms are sorted and hold the same ids as the forward arrays;
                # reading only the last keeps the forward arrays out of memory while serving.
                if segment.terms.shape[0] and int(segment.terms[-1]) >= n_terms:
                    raise ValueError(f"{entry['name']} uses terms beyond the vocabulary")
                try:
                    # Kept open: the ids are read on first use, and a rebuild may have swapped the
                    # whole directory away by then (an open file outlives its removal).
                    id_files.append((seg_dir / "ids.txt").open("rb"))
                except FileNotFoundError:
                    raise ValueError(f"{entry['name']} has no article ids") from None
                bigram_segment = BigramSegment.load(seg_dir, start)
                rows = open_array(seg_dir / MINHASH)
                if bigram_segment.n_docs != segment.n_docs or rows.shape != (segment.n_docs, N_HASHES):
                    raise ValueError(f"{entry['name']} has bigrams or signatures of another number of documents")
                segments.append(segment)
                bigram_segments.append(bigram_segment)
                minhash.append((start, DiskSlices(seg_dir / MINHASH, rows)))
                self.article_files.append(ArticleFile(seg_dir / "articles.jsonl", offsets))
                start += segment.n_docs
            self.bm25 = BM25Index(segments, n_terms, self.params.bm25)
            self.bigrams = BigramIndex(bigram_segments, self.params.bm25)
            self.minhash = SignatureFiles(minhash)
        except (OSError, ValueError, KeyError, TypeError, IndexError, json.JSONDecodeError) as exc:
            for handle in id_files:
                handle.close()
            raise IndexUnusable(f"damaged index ({exc})") from exc
        self._ids: dict[str, int] | None = None
        self._id_files = id_files
        self.closed = False
        # Popular articles recur across questions.
        self._cached_article = functools.lru_cache(maxsize=ARTICLE_CACHE_SIZE)(self._read_article)

    @property
    def n_docs(self) -> int:
        """How many articles the index holds."""
        return self.bm25.n_docs

    def terms_by_id(self) -> list[str]:
        """Every term, a term's id being its position (read from disk: large at scale)."""
        return _read_lines(index_file(self.directory, self.meta, "vocab.txt"))

    def article(self, doc: int) -> Article:
        """An article by its document number (recently read ones come from memory; do not modify)."""
        return self._cached_article(doc)

    def read_article(self, doc: int) -> Article:
        """An article by its document number, read from disk (not cached)."""
        return self._read_article(doc)

    def read_record(self, doc: int) -> dict[str, Any]:
        """An article's stored record by its document number, read from disk (not cached)."""
        for number, segment in reversed(list(enumerate(self.bm25.segments))):
            if doc >= segment.doc_start:
                return self.article_files[number].record(doc - segment.doc_start)
        raise IndexError(doc)

    def _read_article(self, doc: int) -> Article:
        for number, segment in reversed(list(enumerate(self.bm25.segments))):
            if doc >= segment.doc_start:
                return self.article_files[number].get(doc - segment.doc_start)
        raise IndexError(doc)

    def articles(self) -> Iterator[Article]:
        """Every article in document order."""
        for article_file in self.article_files:
            for local in range(len(article_file)):
                yield article_file.get(local)

    def article_ids(self) -> dict[str, int]:
        """Every article id and its document number (read from the segments' id lists once)."""
        if self._ids is None:
            ids: list[str] = []
            for handle in self._id_files:
                handle.seek(0)
                data = handle.read().decode("utf-8")
                ids.extend(data.split("\n") if data else [])
            self._ids = {article_id: number for number, article_id in enumerate(ids)}
        return self._ids

    def doc_number(self, article_id: str) -> int | None:
        """The document number of an article id."""
        return self.article_ids().get(article_id)

    def close(self) -> None:
        """Release open files and memory maps (the index must not be searched afterwards).

        Dropping the segments is what unmaps their arrays: the article cache refers back to
        this object, so without it the maps would live until the cycle collector ran.
        """
        for article_file in self.article_files:
            article_file.close()
        for handle in self._id_files:
            handle.close()
        for segment in self.bm25.segments:
            segment.close()
        for bigram_segment in self.bigrams.segments:
            bigram_segment.close()
        self.minhash.close()
        self.bm25.segments = []
        self.bigrams = BigramIndex([], self.params.bm25)
        self._cached_article.cache_clear()
        self.closed = True


def index_is_current(index_dir: Path, corpus_dir: Path, params: IndexParams) -> tuple[bool, str]:
    """(True, "") when the index matches the corpus and settings, else (False, why)."""
    try:
        meta = json.loads((index_dir / META).read_text(encoding="utf-8"))
    except FileNotFoundError:
        return False, "no index yet"
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return False, "index metadata is damaged"
    if not isinstance(meta, dict) or meta.get("format_version") != FORMAT_VERSION:
        return False, "index was written by another version"
    try:
        segmenter = resolve_segmenter(params.segmenter)
    except ValueError as exc:
        return False, str(exc)
    if meta.get("segmenter") != segmenter:
        return False, f"segmenter changed ({meta.get('segmenter')} → {segmenter})"
    if meta.get("params") != asdict(params):
        return False, "index settings changed"
    if meta.get("shipped") != _shipped_words_signature():
        return False, "word lists or text layout changed"
    if meta.get("corpus", {}).get("fingerprint") != corpus_fingerprint(corpus_dir):
        return False, "corpus changed"
    return True, ""


# --- publishing -----------------------------------------------------------------------


def add_articles(
    index_dir: Path, issue: Issue, articles: list[Article], corpus_dir: Path, new_words: Iterable[str] = ()
) -> None:
    """Append a published issue to the index as a new segment (no rebuild).

    Crash-safe order: the segment, then new copies of the vocabulary, user words and issue
    list under new names, then meta.json naming them all (the commit), then the old copies go.
    Until meta.json is replaced, the index on disk is the old one, whole.
    """
    meta = json.loads((index_dir / META).read_text(encoding="utf-8"))
    params = IndexParams(**meta["params"])
    issues = json.loads(index_file(index_dir, meta, "issues.json").read_text("utf-8"))
    if issue.id in {i["id"] for i in issues}:
        raise ValueError(f"issue {issue.id} is already in the index")
    user_words = _read_lines(index_file(index_dir, meta, "userdict.txt"))
    tokenizer = Tokenizer(user_words, segmenter=meta["segmenter"])
    tokenizer.add_words(new_words)
    vocabulary = _Vocabulary(_read_lines(index_file(index_dir, meta, "vocab.txt")))
    bags: list[tuple[Int32Array, Int32Array]] = []
    bigram_chunks: list[_Chunk] = []
    with _Segmenter(articles, tokenizer, params, workers=1) as chunks:
        for chunk in chunks:
            bags.extend(vocabulary.bags(chunk))
            bigram_chunks.append(chunk)
    start = sum(int(s["n_docs"]) for s in meta["segments"])
    segment = build_segment(bags, start)
    bigrams = bigram_segment_of(*_joined_bigrams(bigram_chunks), start)
    rows = [c.minhash for c in bigram_chunks]
    minhash = np.concatenate(rows) if rows else np.zeros((0, N_HASHES), dtype=np.uint32)
    name = f"seg-{len(meta['segments']):03d}"
    hashes = [content_hash(a, params, tokenizer.signature) for a in articles]
    _save_segment(index_dir, name, segment, bigrams, minhash, articles, hashes)
    old_files = {key: index_file(index_dir, meta, key) for key in GENERATION_FILES}
    files = {key: f"{Path(key).stem}.{name}{Path(key).suffix}" for key in GENERATION_FILES}
    _write_lines(index_dir / files["vocab.txt"], vocabulary.terms)
    write_sorted(vocabulary.terms, {key: index_dir / files[key] for key in SORTED_FILES})
    _write_lines(index_dir / files["userdict.txt"], tokenizer.user_words)
    _write_json(index_dir / files["issues.json"], [*issues, issue.to_dict()])
    meta["files"] = files
    meta["segments"].append({"name": name, "n_docs": segment.n_docs})
    meta["n_terms"] = len(vocabulary.terms)
    meta["tokenizer"] = tokenizer.signature
    meta["corpus"]["fingerprint"] = corpus_fingerprint(corpus_dir)
    _write_json(index_dir / META, meta)
    for path in old_files.values():
        if path.name not in files.values():
            path.unlink(missing_ok=True)
