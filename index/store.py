"""The index directory on disk: building it, loading it, adding a published issue to it.

Layout (every file written whole, then renamed into place):

    meta.json        format version, parameters, corpus fingerprint, segments, skipped files
    vocab.txt        one term a line; a term's id is its line number
    userdict.txt     the local names the segmenter was taught
    issues.json      the issues and their article ids
    seg-NNN/         one segment: BM25 arrays (.npy) + articles.jsonl + offsets.npy

An index of another format version, or one whose files do not fit together, raises
`IndexUnusable`; callers report it and rebuild. A rebuild reuses the bags of words of
unchanged articles from the previous index (by content hash), so only new text is segmented.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import multiprocessing
import os
import shutil
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.article import Article
from index.bm25 import BM25Index, BM25Params, Int32Array, Segment, build_segment
from index.corpus import CorpusLoad, Issue, Skipped, corpus_fingerprint, load_corpus
from index.tokenize import Tokenizer, build_user_words, default_local_names, default_stopwords

log = logging.getLogger(__name__)

FORMAT_VERSION = 1
# Bump when what an article contributes to the index changes (fields, weights, segmentation).
TEXT_LAYOUT_VERSION = 3
META = "meta.json"
PARALLEL_MIN_DOCS = 2000

Progress = Callable[[str, int, int], None]


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


# --- parallel segmentation -------------------------------------------------------------

_worker_tokenizer: Tokenizer | None = None
_worker_params: IndexParams | None = None


def _init_worker(user_words: list[str], params: IndexParams) -> None:
    global _worker_tokenizer, _worker_params
    _worker_tokenizer = Tokenizer(user_words)
    _worker_tokenizer.initialize()
    _worker_params = params


def _bag_job(article: Article) -> tuple[list[str], list[int]]:
    assert _worker_tokenizer is not None and _worker_params is not None
    counts = Counter(document_token_list(_worker_tokenizer, article, _worker_params))
    return list(counts.keys()), list(counts.values())


def _bags_of_words(
    articles: list[Article], tokenizer: Tokenizer, params: IndexParams, workers: int
) -> Iterator[tuple[list[str], list[int]]]:
    if workers > 1 and len(articles) >= PARALLEL_MIN_DOCS:
        context = multiprocessing.get_context("fork")
        with context.Pool(workers, _init_worker, (tokenizer.user_words, params)) as pool:
            yield from pool.imap(_bag_job, articles, chunksize=64)
        return
    tokenizer.initialize()
    for article in articles:
        counts = Counter(document_token_list(tokenizer, article, params))
        yield list(counts.keys()), list(counts.values())


# --- the article store ----------------------------------------------------------------


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
        start, end = int(self.offsets[local]), int(self.offsets[local + 1])
        return Article.from_dict(json.loads(os.pread(self._fd, end - start, start)))

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
                line = json.dumps(article.to_dict(), ensure_ascii=False).encode() + b"\n"
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


def _write_json(path: Path, data: Any) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=1), encoding="utf-8")
    tmp.replace(path)


def _write_lines(path: Path, lines: Iterable[str]) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text("\n".join(lines), encoding="utf-8")
    tmp.replace(path)


def _read_lines(path: Path) -> list[str]:
    text = path.read_text(encoding="utf-8")
    return text.split("\n") if text else []


def _previous_bags(directory: Path, signature: str) -> tuple[dict[str, tuple[Int32Array, Int32Array]], list[str]]:
    """Bags of words of the current index, by content hash, when its tokenizer matches."""
    try:
        meta = json.loads((directory / META).read_text(encoding="utf-8"))
        if meta.get("format_version") != FORMAT_VERSION or meta.get("tokenizer") != signature:
            return {}, []
        vocab = _read_lines(directory / "vocab.txt")
        bags: dict[str, tuple[Int32Array, Int32Array]] = {}
        for entry in meta["segments"]:
            seg_dir = directory / entry["name"]
            segment = Segment.load(seg_dir, 0, mmap=False)
            hashes = _read_lines(seg_dir / "hashes.txt")
            for local, digest in enumerate(hashes):
                terms, tfs = segment.bag(local)
                bags[digest] = (terms.copy(), tfs.copy())
        return bags, vocab
    except (OSError, ValueError, KeyError, json.JSONDecodeError):
        return {}, []


class _Vocabulary:
    def __init__(self, terms: list[str]) -> None:
        self.terms = list(terms)
        self.ids = {term: number for number, term in enumerate(self.terms)}

    def bag(self, tokens: list[str], counts: list[int]) -> tuple[Int32Array, Int32Array]:
        ids = self.ids
        term_ids = []
        for token in tokens:
            number = ids.get(token)
            if number is None:
                number = len(self.terms)
                ids[token] = number
                self.terms.append(token)
            term_ids.append(number)
        order = np.argsort(np.array(term_ids, dtype=np.int32), kind="stable")
        return (
            np.array(term_ids, dtype=np.int32)[order],
            np.array(counts, dtype=np.int32)[order],
        )


def _save_segment(directory: Path, name: str, segment: Segment, articles: list[Article], hashes: list[str]) -> None:
    tmp = directory / f".{name}.tmp"
    shutil.rmtree(tmp, ignore_errors=True)
    segment.save(tmp)
    offsets = ArticleFile.write(tmp / "articles.jsonl", articles)
    np.save(tmp / "offsets.npy", offsets, allow_pickle=False)
    _write_lines(tmp / "hashes.txt", hashes)
    final = directory / name
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)


def _index_signature(params: IndexParams, tokenizer_signature: str) -> dict[str, Any]:
    return {"params": asdict(params), "tokenizer": tokenizer_signature, "shipped": _shipped_words_signature()}


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

    Raises ValueError when the corpus yields no article at all (the old index stays).
    """
    started = time.perf_counter()
    fingerprint = corpus_fingerprint(corpus_dir)
    corpus = loaded if loaded is not None else load_corpus(corpus_dir)
    report = BuildReport(n_articles=len(corpus.articles), n_issues=len(corpus.issues), skipped=corpus.skipped)
    if not corpus.articles:
        raise ValueError(f"no articles could be read from {corpus_dir}")
    user_words = build_user_words(
        [i.street for i in corpus.issues],
        (a.title + "\n" + a.body for a in corpus.articles if not a.derived_headline),
    )
    tokenizer = Tokenizer(user_words)
    signature = tokenizer.signature
    previous, old_terms = _previous_bags(index_dir, signature) if index_dir.exists() else ({}, [])
    vocabulary = _Vocabulary(old_terms)
    hashes = [content_hash(a, params, signature) for a in corpus.articles]
    todo = [a for a, h in zip(corpus.articles, hashes, strict=True) if h not in previous]
    workers = workers if workers > 0 else (os.cpu_count() or 1)
    fresh: dict[str, tuple[Int32Array, Int32Array]] = {}
    total = len(corpus.articles)
    done = total - len(todo)
    report.reused, report.segmented = done, len(todo)
    todo_hashes = [h for h in hashes if h not in previous]
    for digest, (tokens, counts) in zip(todo_hashes, _bags_of_words(todo, tokenizer, params, workers), strict=True):
        fresh[digest] = vocabulary.bag(tokens, counts)
        done += 1
        if progress is not None and (done % 500 == 0 or done == total):
            progress("segmenting", done, total)
    bags = [fresh[h] if h in fresh else previous[h] for h in hashes]
    segment = build_segment(bags, 0)

    staging = index_dir.with_name(index_dir.name + f".building-{os.getpid()}")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    _save_segment(staging, "seg-000", segment, corpus.articles, hashes)
    _write_lines(staging / "vocab.txt", vocabulary.terms)
    _write_lines(staging / "userdict.txt", user_words)
    _write_json(staging / "issues.json", [i.to_dict() for i in corpus.issues])
    meta = {
        "format_version": FORMAT_VERSION,
        **_index_signature(params, signature),
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
    """Replace `index_dir` by `staging` with renames, so readers see one or the other."""
    index_dir.parent.mkdir(parents=True, exist_ok=True)
    old = index_dir.with_name(index_dir.name + f".old-{os.getpid()}-{threading.get_ident()}")
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
        try:
            self.params = IndexParams(**meta["params"])
            terms = _read_lines(directory / "vocab.txt")
            if len(terms) != int(meta["n_terms"]):
                raise ValueError("vocabulary size does not match the metadata")
            self.terms = terms
            self.term_ids = {term: number for number, term in enumerate(terms)}
            self.tokenizer = Tokenizer(_read_lines(directory / "userdict.txt"))
            self.issues = [Issue(**i) for i in json.loads((directory / "issues.json").read_text("utf-8"))]
            segments: list[Segment] = []
            self.article_files: list[ArticleFile] = []
            start = 0
            for entry in meta["segments"]:
                seg_dir = directory / entry["name"]
                segment = Segment.load(seg_dir, start)
                offsets = np.load(seg_dir / "offsets.npy", allow_pickle=False)
                if segment.n_docs != int(entry["n_docs"]) or offsets.shape[0] != segment.n_docs + 1:
                    raise ValueError(f"{entry['name']} holds another number of documents than recorded")
                if int(segment.fwd_terms.max(initial=-1)) >= len(terms):
                    raise ValueError(f"{entry['name']} uses terms beyond the vocabulary")
                segments.append(segment)
                self.article_files.append(ArticleFile(seg_dir / "articles.jsonl", offsets))
                start += segment.n_docs
        except (OSError, ValueError, KeyError, TypeError, json.JSONDecodeError) as exc:
            raise IndexUnusable(f"damaged index ({exc})") from exc
        self.bm25 = BM25Index(segments, len(terms), self.params.bm25)
        self._ids: dict[str, int] | None = None

    @property
    def n_docs(self) -> int:
        """How many articles the index holds."""
        return self.bm25.n_docs

    def article(self, doc: int) -> Article:
        """An article by its document number."""
        for number, segment in reversed(list(enumerate(self.bm25.segments))):
            if doc >= segment.doc_start:
                return self.article_files[number].get(doc - segment.doc_start)
        raise IndexError(doc)

    def articles(self) -> Iterator[Article]:
        """Every article in document order."""
        for article_file in self.article_files:
            for local in range(len(article_file)):
                yield article_file.get(local)

    def doc_number(self, article_id: str) -> int | None:
        """The document number of an article id (built on first use)."""
        if self._ids is None:
            self._ids = {a.id: n for n, a in enumerate(self.articles())}
        return self._ids.get(article_id)

    def close(self) -> None:
        """Release open files."""
        for article_file in self.article_files:
            article_file.close()


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
    """Append a published issue to the index as a new segment (no rebuild)."""
    meta = json.loads((index_dir / META).read_text(encoding="utf-8"))
    params = IndexParams(**meta["params"])
    existing_ids = {i["id"] for i in json.loads((index_dir / "issues.json").read_text("utf-8"))}
    if issue.id in existing_ids:
        raise ValueError(f"issue {issue.id} is already in the index")
    user_words = _read_lines(index_dir / "userdict.txt")
    tokenizer = Tokenizer(user_words)
    tokenizer.add_words(new_words)
    vocabulary = _Vocabulary(_read_lines(index_dir / "vocab.txt"))
    bags = []
    for tokens, counts in _bags_of_words(articles, tokenizer, params, workers=1):
        bags.append(vocabulary.bag(tokens, counts))
    start = sum(int(s["n_docs"]) for s in meta["segments"])
    segment = build_segment(bags, start)
    name = f"seg-{len(meta['segments']):03d}"
    hashes = [content_hash(a, params, tokenizer.signature) for a in articles]
    _save_segment(index_dir, name, segment, articles, hashes)
    _write_lines(index_dir / "vocab.txt", vocabulary.terms)
    _write_lines(index_dir / "userdict.txt", tokenizer.user_words)
    issues = json.loads((index_dir / "issues.json").read_text("utf-8"))
    issues.append(issue.to_dict())
    _write_json(index_dir / "issues.json", issues)
    meta["segments"].append({"name": name, "n_docs": segment.n_docs})
    meta["n_terms"] = len(vocabulary.terms)
    meta["tokenizer"] = tokenizer.signature
    meta["corpus"]["fingerprint"] = corpus_fingerprint(corpus_dir)
    _write_json(index_dir / META, meta)
