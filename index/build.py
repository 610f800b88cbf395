"""Building the index of a corpus: segmenting what is new, reusing the rest, swapping it in whole.

A rebuild reuses the bags of words of unchanged articles from the previous index (by content
hash), so only new text is segmented, and that on every core (index.bags). When the corpus files
are byte for byte those a whole (one-segment) index was built from, with the same settings, and
that index opens, the rebuild keeps it as it is without reading the corpus.
"""

from __future__ import annotations

import contextlib
import json
import logging
import os
import shutil
import time
import uuid
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.article import Article
from index.article_file import ArticleFile
from index.atomic import exchange
from index.bags import Chunk, Segmenter, Vocabulary
from index.bigram import BIGRAM_ARRAYS, bigram_segment_of_blocks
from index.bm25 import SEGMENT_ARRAYS, CountArray, Int32Array, Segment, build_segment
from index.corpus import CorpusLoad, corpus_digest, corpus_fingerprint, load_corpus
from index.index_files import (
    FORMAT_VERSION,
    META,
    MINHASH,
    IndexUnusable,
    index_file,
    link_or_copy,
    read_lines,
    segment_files,
    write_json,
    write_lines,
)
from index.indexed_text import content_hash, shipped_words_signature
from index.loaded_index import LoadedIndex
from index.records import Skipped
from index.settings import IndexParams
from index.staleness import settings_changed
from index.tokenize import Tokenizer, build_user_words
from index.vocabulary import SORTED_FILES, write_sorted

log = logging.getLogger(__name__)

Progress = Callable[[str, int, int], None]


class EmptyCorpus(ValueError):
    """Not one article could be read from `corpus_dir` (`skipped` files were refused); nothing is built."""

    def __init__(self, corpus_dir: Path, skipped: int) -> None:
        super().__init__(f"no articles could be read from {corpus_dir}")
        self.corpus_dir = corpus_dir
        self.skipped = skipped


@dataclass
class BuildReport:
    """What a build did."""

    n_articles: int = 0
    n_issues: int = 0
    reused: int = 0
    segmented: int = 0
    seconds: float = 0.0
    skipped: list[Skipped] = field(default_factory=list)
    # The index already held exactly this corpus and was kept as it is.
    kept: bool = False
    # Seconds of each step, in order: where a build's time goes (`newsbot bench` reports it).
    steps: dict[str, float] = field(default_factory=dict)

    def step(self, name: str, since: float) -> float:
        """Record that step `name` ran from `since` until now; returns now."""
        now = time.perf_counter()
        self.steps[name] = self.steps.get(name, 0.0) + now - since
        return now


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
            terms = read_lines(index_file(directory, meta, "vocab.txt"))
            for entry in meta["segments"]:
                seg_dir = directory / entry["name"]
                segment = Segment.load(seg_dir, 0)
                hashes = read_lines(seg_dir / "hashes.txt")
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


def _index_signature(params: IndexParams, tokenizer: Tokenizer) -> dict[str, Any]:
    return {
        "params": asdict(params),
        "tokenizer": tokenizer.signature,
        "segmenter": tokenizer.segmenter,
        "shipped": shipped_words_signature(),
    }


def build_index(
    corpus_dir: Path,
    index_dir: Path,
    params: IndexParams,
    *,
    workers: int = 0,
    progress: Progress | None = None,
    loaded: CorpusLoad | None = None,
    keep_unchanged: bool = True,
) -> BuildReport:
    """Build the index of a corpus into `index_dir`, replacing what is there atomically.

    Only articles whose text is not in the current index are segmented (each distinct text
    once), on `workers` processes (0: one per core). An index built from exactly these corpus
    bytes is kept as it is (unless `keep_unchanged` is False: an index found damaged is
    rebuilt). Raises ValueError when the corpus yields no article at all (the old index stays).
    """
    started = time.perf_counter()
    fingerprint = corpus_fingerprint(corpus_dir)
    corpus_bytes = corpus_digest(corpus_dir)
    if keep_unchanged:
        kept = _keep_unchanged(index_dir, corpus_dir, params, fingerprint, corpus_bytes, started)
        if kept is not None:
            return kept
    corpus = loaded if loaded is not None else load_corpus(corpus_dir)
    report = BuildReport(n_articles=len(corpus.articles), n_issues=len(corpus.issues), skipped=corpus.skipped)
    if not corpus.articles:
        raise EmptyCorpus(corpus_dir, len(corpus.skipped))
    mark = report.step("reading the corpus", started)
    user_words = build_user_words(
        [i.street for i in corpus.issues],
        # The same text a published issue teaches its names from (captions included).
        ("\n".join([a.title, a.body, *a.captions]) for a in corpus.articles if not a.derived_headline),
    )
    tokenizer = Tokenizer(user_words, segmenter=params.segmenter)
    signature = tokenizer.signature
    hashes = [content_hash(a, params, signature) for a in corpus.articles]
    previous = _PreviousIndex.open(index_dir, signature) if index_dir.exists() else _PreviousIndex()
    vocabulary = Vocabulary(previous.terms)
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
    mark = report.step("dictionary, hashes, previous index", mark)

    staging = index_dir.with_name(f"{index_dir.name}.building-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    seg_dir = staging / "seg-000"
    seg_dir.mkdir(parents=True)
    fresh: dict[str, tuple[Int32Array, CountArray]] = {}
    # Bigrams and signatures stay in the chunks' arrays (no object per article), in `todo` order.
    bigram_chunks: list[Chunk] = []
    digests = list(todo)
    pending_words = iter(d for d, w in zip(digests, wanted, strict=True) if w)
    done = total - len(todo)
    with Segmenter(list(todo.values()), tokenizer, params, workers or os.cpu_count() or 1, wanted) as chunks:
        for chunk in chunks:
            for bag in vocabulary.bags(chunk):
                fresh[next(pending_words)] = bag
            chunk.words, chunk.terms, chunk.tfs = [], chunk.terms[:0], chunk.tfs[:0]  # mapped: not kept twice
            bigram_chunks.append(chunk)
            done += len(chunk.bg_lengths)
            if progress is not None:
                progress("segmenting", min(done, total), total)
    mark = report.step("segmenting (all cores)", mark)
    if same:
        segment = previous.segments[0]
        for name in (*SEGMENT_ARRAYS, *BIGRAM_ARRAYS):
            link_or_copy(previous.directories[0] / f"{name}.npy", seg_dir / f"{name}.npy")
        link_or_copy(previous.directories[0] / MINHASH, seg_dir / MINHASH)
        offsets = ArticleFile.write(seg_dir / "articles.jsonl", corpus.articles)
        np.save(seg_dir / "offsets.npy", offsets, allow_pickle=False)
        write_lines(seg_dir / "hashes.txt", hashes)
        write_lines(seg_dir / "ids.txt", [a.id for a in corpus.articles])
        _write_vocabulary(staging, vocabulary.terms)
    else:
        position = {digest: number for number, digest in enumerate(digests)}
        order = [position[h] for h in hashes]
        # The two fields' postings are sorted in threads, numpy mostly without the GIL, while
        # this one writes what takes Python: the articles and the vocabulary.
        with ThreadPoolExecutor(2) as pool, _small_pages():
            blocks = [(c.bg_lengths, c.bg_terms, c.bg_tfs) for c in bigram_chunks]
            bigram_postings = pool.submit(bigram_segment_of_blocks, blocks, 0, order)
            bags = [fresh[h] if h in fresh else previous.bag(h) for h in hashes]
            word_postings = pool.submit(build_segment, bags, 0)
            offsets = ArticleFile.write(seg_dir / "articles.jsonl", corpus.articles)
            _write_vocabulary(staging, vocabulary.terms)
            minhash = np.concatenate([c.minhash for c in bigram_chunks])[order]
            segment, bigrams = word_postings.result(), bigram_postings.result()
        mark = report.step("sorting the postings, writing the articles and the vocabulary", mark)
        segment_files(seg_dir, segment, bigrams, minhash, offsets, hashes, [a.id for a in corpus.articles])
    write_lines(staging / "userdict.txt", user_words)
    write_json(staging / "issues.json", [i.to_dict() for i in corpus.issues], compact=True)
    meta = {
        "format_version": FORMAT_VERSION,
        **_index_signature(params, tokenizer),
        "corpus": {"path": str(corpus_dir), "fingerprint": fingerprint, "digest": corpus_bytes},
        "segments": [{"name": "seg-000", "n_docs": segment.n_docs}],
        "n_terms": len(vocabulary.terms),
        "skipped": [[s.path, s.reason] for s in corpus.skipped],
        "built_at": time.strftime("%Y-%m-%dT%H:%M:%S"),
    }
    write_json(staging / META, meta)
    swap_in(staging, index_dir)
    report.step("writing the index", mark)
    report.seconds = time.perf_counter() - started
    log.info(
        "indexed %d articles (%d segmented, %d reused) in %.1fs",
        total,
        report.segmented,
        report.reused,
        report.seconds,
    )
    return report


@contextlib.contextmanager
def _small_pages() -> Iterator[None]:
    """numpy without huge pages while the postings are sorted: each of those large arrays is
    paged in once, and where the kernel compacts memory to back a huge page at its first touch
    (transparent huge pages on madvise) that costs more than the sort itself (the 68k step 2.4
    to 1.6 s here). The workers keep them: their arrays are reused, chunk after chunk."""
    switch = getattr(getattr(np, "_core", None), "multiarray", None)
    set_huge = getattr(switch, "_set_madvise_hugepage", None)
    if set_huge is None:
        yield
        return
    before = set_huge(False)
    try:
        yield
    finally:
        set_huge(before)


def _write_vocabulary(staging: Path, terms: list[str]) -> None:
    write_lines(staging / "vocab.txt", terms)
    write_sorted(terms, {key: staging / key for key in SORTED_FILES})


def _keep_unchanged(
    index_dir: Path, corpus_dir: Path, params: IndexParams, fingerprint: str, digest: str, started: float
) -> BuildReport | None:
    """The report of keeping the index as it is, when it was built from these very corpus bytes
    with these settings, is one segment (published issues appended to it are merged by a
    rebuild) and opens whole; else None."""
    try:
        meta = json.loads((index_dir / META).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    corpus = meta.get("corpus") if isinstance(meta, dict) else None
    if (
        settings_changed(meta, params)
        or len(meta.get("segments", [])) != 1
        or not isinstance(corpus, dict)
        or corpus.get("path") != str(corpus_dir)
        or corpus.get("digest") != digest
    ):
        return None
    try:
        index = LoadedIndex(index_dir)
    except IndexUnusable as exc:
        log.info("not keeping the index as it is (%s)", exc)
        return None
    try:
        # The user words are kept in the index, so this also checks the tokenizer's version.
        if index.tokenizer.signature != meta.get("tokenizer"):
            return None
        report = BuildReport(n_articles=index.n_docs, n_issues=len(index.issues), reused=index.n_docs, kept=True)
    finally:
        index.close()
    report.skipped = [Skipped(path, reason) for path, reason in meta.get("skipped", [])]
    if corpus.get("fingerprint") != fingerprint:
        # Touched, not changed: the next start should not think the corpus changed.
        corpus["fingerprint"] = fingerprint
        write_json(index_dir / META, meta)
    report.step("checking the corpus bytes and the index", started)
    report.seconds = time.perf_counter() - started
    log.info("the index already holds exactly this corpus (%d articles); kept as it is", report.n_articles)
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
