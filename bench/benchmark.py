"""The scale benchmark: our index against rank-bm25 and bm25s on the same tokens, at several sizes.

This module owns measuring (`run_benchmark`) and presenting (`format_report`, `target_rows`)
what `newsbot bench` prints: index build time against one process just segmenting the same
text, rebuild and publish times, index size, load time, peak resident memory while serving,
query latency percentiles and quality (recall@10, MRR@10 on labelled questions), side by side
with `rank_bm25.BM25Okapi` and `bm25s` fed the very same token lists.

Every measurement that has a memory figure or a start-up cost runs in a fresh process (spawned,
so it inherits nothing), so each peak resident set (VmHWM) belongs to one system alone. The
references are imported lazily there: rank-bm25 is a dependency anyway, bm25s is the optional
`[bench]` extra and is skipped (and said so) when missing.

The reference indexes are built from a stream of token lists read from our own index's
per-article bags (term ids and counts, expanded back to tokens), so all three systems score the
same tokens and their memory figures hold only their own structures.
"""

from __future__ import annotations

import contextlib
import json
import logging
import multiprocessing
import os
import resource
import shutil
import time
import traceback
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from bench.corpus import write_corpus
from bench.evaluate import ranking_metrics
from index.segmenter import resolve as resolve_segmenter
from index.settings import IndexParams, SearchSettings

log = logging.getLogger(__name__)

K = 10
WARMUP_QUERIES = 3
# Questions on which every reference's exact top 10 (and scores) are compared with ours.
AGREEMENT_QUERIES = 50
ALL = "all"
REFERENCE_LIMIT = 100_000
# From this many articles on, the city-scale targets apply (Shanghai's ten years of papers).
CITY_ARTICLES = 400_000
TARGET_MIN_ARTICLES = 50_000

Report = Callable[[str], None]
Figures = dict[str, Any]


class BenchmarkError(RuntimeError):
    """A measurement could not be made (the message says which and why)."""


@dataclass
class BenchOptions:
    """What to measure and where."""

    data_dir: Path
    work_dir: Path
    sizes: list[int | None] = field(default_factory=lambda: [1000, 10000, None])  # None: every article
    n_queries: int = 500
    references: bool = True
    # Above this many articles the references (rank-bm25, bm25s, one-process jieba) are left
    # out: rank-bm25 alone needs gigabytes there and jieba would take half an hour.
    reference_limit: int = REFERENCE_LIMIT
    workers: int = 0
    issue_file: Path | None = None
    params: IndexParams = field(default_factory=IndexParams)
    search: SearchSettings = field(default_factory=SearchSettings)

    @property
    def archive(self) -> Path:
        """The news archive (JSONL, xz-compressed)."""
        return self.data_dir / "news.jsonl.xz"


def parse_sizes(text: str) -> list[int | None]:
    """Sizes from text: "1000,10000,all" -> [1000, 10000, None]; raises ValueError on anything else."""
    sizes: list[int | None] = []
    for part in text.split(","):
        part = part.strip().lower()
        if not part:
            continue
        if part == ALL:
            sizes.append(None)
            continue
        multiplier = 1000 if part.endswith("k") else 1
        number = int(part.removesuffix("k")) * multiplier
        if number <= 0:
            raise ValueError(f"a size must be positive, not {part!r}")
        sizes.append(number)
    if not sizes:
        raise ValueError("no sizes given")
    return sizes


# --- measuring in a fresh process -----------------------------------------------------


def peak_rss_bytes() -> int:
    """This process's peak resident set size (VmHWM)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    # ru_maxrss is in kilobytes on Linux.
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def _child_main(connection: Connection, function: Callable[..., Figures], args: tuple[Any, ...]) -> None:
    try:
        connection.send((True, function(*args)))
    except BaseException:
        connection.send((False, traceback.format_exc()))
    finally:
        connection.close()


def run_isolated(function: Callable[..., Figures], *args: Any) -> Figures:
    """`function(*args)` in a freshly spawned Python process; its result (a picklable dict)."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=_child_main, args=(sender, function, args), name=function.__name__)
    process.start()
    sender.close()
    try:
        ok, payload = receiver.recv()
    except EOFError as exc:
        process.join()
        raise BenchmarkError(f"{function.__name__} died (exit code {process.exitcode})") from exc
    finally:
        receiver.close()
    process.join()
    if not ok:
        raise BenchmarkError(f"{function.__name__} failed:\n{payload}")
    result: Figures = payload
    return result


def percentiles(seconds: Sequence[float]) -> Figures:
    """p50/p95/p99 and mean of latencies, in milliseconds."""
    if not seconds:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "mean": None}
    values = np.array(seconds, dtype=np.float64) * 1000.0
    p50, p95, p99 = np.percentile(values, [50, 95, 99]).tolist()
    return {"n": len(seconds), "p50": p50, "p95": p95, "p99": p99, "mean": float(values.mean())}


# --- the data -------------------------------------------------------------------------


def read_queries(path: Path) -> list[str]:
    """The timing questions, one a line."""
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def read_dev(path: Path) -> list[tuple[str, str]]:
    """(question, gold article id) pairs."""
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            pairs.append((str(record["q"]), str(record["gold"])))
    return pairs


def index_ids(index_dir: Path) -> list[str]:
    """Article ids in document order."""
    meta = json.loads((index_dir / "meta.json").read_text(encoding="utf-8"))
    ids: list[str] = []
    for entry in meta["segments"]:
        ids.extend((index_dir / entry["name"] / "ids.txt").read_text(encoding="utf-8").split("\n"))
    return ids


def directory_bytes(directory: Path) -> int:
    """Total size of the files under a directory."""
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


def _read_npy_header(handle: Any) -> tuple[tuple[int, ...], np.dtype[Any]]:
    major, _ = np.lib.format.read_magic(handle)
    if major == 1:
        shape, _, dtype = np.lib.format.read_array_header_1_0(handle)
    else:
        shape, _, dtype = np.lib.format.read_array_header_2_0(handle)
    return shape, dtype


def stream_bags(index_dir: Path) -> Iterator[tuple[list[int], list[int]]]:
    """Every article's (term ids, counts), read with plain file reads.

    Memory-mapping the arrays would put them in this process's resident set; the references'
    memory figures should hold their own structures only.
    """
    meta = json.loads((index_dir / "meta.json").read_text(encoding="utf-8"))
    for entry in meta["segments"]:
        seg_dir = index_dir / entry["name"]
        indptr = np.load(seg_dir / "fwd_indptr.npy")
        with (seg_dir / "fwd_terms.npy").open("rb") as terms_file, (seg_dir / "fwd_tfs.npy").open("rb") as tfs_file:
            _, terms_dtype = _read_npy_header(terms_file)
            _, tfs_dtype = _read_npy_header(tfs_file)
            for count in np.diff(indptr).tolist():
                terms = np.fromfile(terms_file, dtype=terms_dtype, count=count)
                tfs = np.fromfile(tfs_file, dtype=tfs_dtype, count=count)
                yield terms.tolist(), tfs.tolist()


def read_vocabulary(index_dir: Path) -> list[str]:
    """The index's terms; a term's id is its position."""
    from index.store import META, index_file

    meta = json.loads((index_dir / META).read_text(encoding="utf-8"))
    text = index_file(index_dir, meta, "vocab.txt").read_text(encoding="utf-8")
    return text.split("\n") if text else []


def top_by_score(scores: np.ndarray, k: int = K) -> list[tuple[int, float]]:
    """The k best positive (document, score) pairs, ties broken by document number (as ours)."""
    k = min(k, scores.shape[0])
    if k <= 0:
        return []
    candidates = np.argpartition(-scores, k - 1)[:k]
    ranked = sorted(candidates.tolist(), key=lambda d: (-scores[d], d))
    return [(int(d), float(scores[d])) for d in ranked if scores[d] > 0]


# --- children: what each fresh process measures ----------------------------------------


def child_segmentation_reference(corpus: str, params: IndexParams) -> Figures:
    """One process segmenting the text the index segments, exactly as the product does, no cache.

    Timed with the product's segmenter and with jieba (the reference the build is measured
    against), and plain `jieba.cut_for_search` over the same text, for context. Dictionary
    loading is left out of all three times.
    """
    import jieba

    from index.corpus import load_corpus
    from index.store import weighted_text_parts
    from index.tokenize import Tokenizer, build_user_words

    loaded = load_corpus(Path(corpus))
    user_words = build_user_words(
        [i.street for i in loaded.issues],
        (a.title + "\n" + a.body for a in loaded.articles if not a.derived_headline),
    )
    texts = [text for a in loaded.articles for text, _ in weighted_text_parts(a, params)]
    seconds: dict[str, float] = {}
    names: dict[str, str] = {}
    for key, segmenter in (("seconds", params.segmenter), ("jieba_seconds", "jieba")):
        tokenizer = Tokenizer(user_words, block_cache_size=0, segmenter=segmenter)
        tokenizer.initialize()
        started = time.perf_counter()
        for text in texts:
            tokenizer.document_tokens(text)
        seconds[key] = time.perf_counter() - started
        names[key] = tokenizer.segmenter
    plain = jieba.Tokenizer()
    plain.initialize()
    started = time.perf_counter()
    for text in texts:
        for _ in plain.cut_for_search(text):
            pass
    return {
        **seconds,
        "segmenter": names["seconds"],
        "jieba_cut_for_search_seconds": time.perf_counter() - started,
        "chars": sum(len(t) for t in texts),
        "articles": len(loaded.articles),
    }


def child_build(corpus: str, index_dir: str, params: IndexParams, workers: int) -> Figures:
    """`build_index` into `index_dir` (a rebuild when an index is already there)."""
    from index.store import build_index

    report = build_index(Path(corpus), Path(index_dir), params, workers=workers)
    return {
        "seconds": report.seconds,
        "articles": report.n_articles,
        "segmented": report.segmented,
        "reused": report.reused,
    }


def child_segmenter_agreement(index_dir: str, reference_dir: str, questions: list[str], n_questions: int) -> Figures:
    """Our BM25 top 10 on the index the product's segmenter built against the one jieba built.

    rjieba and jieba agree on every Chinese word and differ only on some number and Latin runs
    (600519.SH whole, or 600519 + SH): a differing top 10 is counted apart when the question's
    own tokens differ that way, and otherwise (the runs changed document lengths or idf).
    """
    from index.search import SearchEngine

    ours, reference = SearchEngine.open(Path(index_dir)), SearchEngine.open(Path(reference_dir))
    counts = {"questions": 0, "same_order": 0, "same_set": 0, "differ_question_tokens": 0, "differ_other": 0}
    for question in questions:
        if counts["questions"] >= n_questions:
            break
        mine = [d for d, _ in ours.raw_top(question, K)]
        theirs = [d for d, _ in reference.raw_top(question, K)]
        if not mine and not theirs:
            continue
        counts["questions"] += 1
        if mine == theirs:
            counts["same_order"] += 1
        elif ours.analyze(question)[0] != reference.analyze(question)[0]:
            counts["differ_question_tokens"] += 1
        elif set(mine) == set(theirs):
            counts["same_set"] += 1
        else:
            counts["differ_other"] += 1
    ours.index.close()
    reference.index.close()
    return {**counts, "segmenter": ours.index.tokenizer.segmenter, "reference": reference.index.tokenizer.segmenter}


def child_serve_ours(
    index_dir: str, search: SearchSettings, questions: list[str], dev: list[str], n_timed: int
) -> Figures:
    """Start-up, the first answer, latencies and quality of our engine, and its peak memory."""
    from index.search import SearchEngine

    started = time.perf_counter()
    engine = SearchEngine.open(Path(index_dir), search)
    load_seconds = time.perf_counter() - started
    engine.search(questions[0])
    first_answer_seconds = time.perf_counter() - started
    term_ids = engine.index.term_ids
    bm25 = engine.index.bm25

    timed: list[tuple[str, list[str]]] = []
    for question in questions:
        tokens, problem = engine.analyze(question)
        if not problem and any(t in term_ids for t in tokens):
            timed.append((question, tokens))
        if len(timed) >= n_timed:
            break
    for _, tokens in timed[:WARMUP_QUERIES]:
        bm25.top([term_ids[t] for t in tokens if t in term_ids], K)

    rank_seconds: list[float] = []
    tops: list[list[tuple[int, float]]] = []
    for _, tokens in timed:
        t0 = time.perf_counter()
        top = bm25.top([term_ids[t] for t in tokens if t in term_ids], K)
        rank_seconds.append(time.perf_counter() - t0)
        tops.append(top)
    answer_seconds: list[float] = []
    for question, _ in timed:
        t0 = time.perf_counter()
        engine.search(question)
        answer_seconds.append(time.perf_counter() - t0)

    dev_tokens = [engine.analyze(q)[0] for q in dev]
    dev_ranked = [[d for d, _ in bm25.top([term_ids[t] for t in tokens if t in term_ids], K)] for tokens in dev_tokens]
    dev_answered = [[r.article.id for r in engine.search(q, limit=K).results] for q in dev]
    return {
        "load_seconds": load_seconds,
        "first_answer_seconds": first_answer_seconds,
        "rank": percentiles(rank_seconds),
        "answer": percentiles(answer_seconds),
        "peak_rss": peak_rss_bytes(),
        "timed_tokens": [tokens for _, tokens in timed],
        "tops": tops,
        "dev_tokens": dev_tokens,
        "dev_ranked": dev_ranked,
        "dev_answered": dev_answered,
    }


def child_rank_bm25(index_dir: str, params: IndexParams, timed: list[list[str]], dev: list[list[str]]) -> Figures:
    """rank-bm25's BM25Okapi built from the same tokens; get_top_n latency, quality, peak memory."""
    from rank_bm25 import BM25Okapi

    vocab = read_vocabulary(Path(index_dir))

    def documents() -> Iterator[list[str]]:
        for terms, tfs in stream_bags(Path(index_dir)):
            yield [vocab[t] for t, f in zip(terms, tfs, strict=True) for _ in range(f)]

    started = time.perf_counter()
    # BM25Okapi reads its corpus in one pass, so a generator keeps the token lists out of memory.
    model = BM25Okapi(documents(), k1=params.k1, b=params.b, epsilon=params.epsilon)
    build_seconds = time.perf_counter() - started
    positions = range(model.corpus_size)
    for tokens in timed[:WARMUP_QUERIES]:
        model.get_top_n(tokens, positions, n=K)
    seconds: list[float] = []
    for tokens in timed:
        t0 = time.perf_counter()
        model.get_top_n(tokens, positions, n=K)
        seconds.append(time.perf_counter() - t0)
    # get_top_n returns no scores (and pads with zero-score documents): compare exactly on a sample.
    exact = [top_by_score(np.asarray(model.get_scores(tokens))) for tokens in timed[:AGREEMENT_QUERIES]]
    dev_ranked = [[d for d, _ in top_by_score(np.asarray(model.get_scores(tokens)))] for tokens in dev]
    return {
        "build_seconds": build_seconds,
        "latency": percentiles(seconds),
        "peak_rss": peak_rss_bytes(),
        "exact": exact,
        "dev_ranked": dev_ranked,
    }


def child_rank_bm25_token_lists(index_dir: str, params: IndexParams) -> Figures:
    """rank-bm25 built the usual way, from a list of every article's token list; its peak memory.

    A tokenizer returns a new string object for every token, so the tokens are fresh strings
    here too (a copy of the vocabulary's).
    """
    from rank_bm25 import BM25Okapi

    vocab = read_vocabulary(Path(index_dir))
    corpus = [
        [vocab[t].encode().decode() for t, f in zip(terms, tfs, strict=True) for _ in range(f)]
        for terms, tfs in stream_bags(Path(index_dir))
    ]
    started = time.perf_counter()
    model = BM25Okapi(corpus, k1=params.k1, b=params.b, epsilon=params.epsilon)
    return {"build_seconds": time.perf_counter() - started, "articles": model.corpus_size, "peak_rss": peak_rss_bytes()}


class _TokenIdStream:
    """Every article's token ids (repeats kept), re-readable: bm25s makes several passes."""

    def __init__(self, index_dir: Path, n_docs: int) -> None:
        self.index_dir = index_dir
        self.n_docs = n_docs

    def __len__(self) -> int:
        return self.n_docs

    def __iter__(self) -> Iterator[list[int]]:
        for terms, tfs in stream_bags(self.index_dir):
            yield [t for t, f in zip(terms, tfs, strict=True) for _ in range(f)]


@dataclass
class _TokenizedCorpus:
    """What bm25s.BM25.index accepts as pre-tokenized input (`ids` per document, `vocab`)."""

    ids: _TokenIdStream
    vocab: dict[str, int]


def bm25s_settings(params: IndexParams) -> dict[str, Any]:
    """bm25s's settings closest to rank-bm25's BM25Okapi.

    "atire" term frequency is BM25Okapi's tf * (k1 + 1) / (tf + k1 * (1 - b + b * dl / avgdl));
    "robertson" idf is its log((N - df + 0.5) / (df + 0.5)). One difference remains: for a
    term in more than half of the documents bm25s clips the idf to 0 where BM25Okapi uses
    epsilon times the mean idf. Scores are float32 (bm25s's default).
    """
    return {"k1": params.k1, "b": params.b, "method": "atire", "idf_method": "robertson"}


def child_bm25s_build(index_dir: str, params: IndexParams, save_dir: str) -> Figures:
    """bm25s built from the same token ids, saved for a separate serving process."""
    os.environ.setdefault("DISABLE_TQDM", "1")
    import bm25s

    vocab = {term: number for number, term in enumerate(read_vocabulary(Path(index_dir)))}
    n_docs = len(index_ids(Path(index_dir)))
    started = time.perf_counter()
    retriever = bm25s.BM25(**bm25s_settings(params))
    retriever.index(_TokenizedCorpus(_TokenIdStream(Path(index_dir), n_docs), vocab), show_progress=False)
    build_seconds = time.perf_counter() - started
    retriever.save(save_dir)
    return {"build_seconds": build_seconds, "peak_rss": peak_rss_bytes()}


def child_bm25s_serve(save_dir: str, timed: list[list[str]], dev: list[list[str]]) -> Figures:
    """bm25s loaded from its saved index; retrieve latency, quality, peak memory."""
    os.environ.setdefault("DISABLE_TQDM", "1")
    import bm25s

    started = time.perf_counter()
    retriever = bm25s.BM25.load(save_dir)
    load_seconds = time.perf_counter() - started

    def top(tokens: list[str]) -> list[int]:
        if not any(t in retriever.vocab_dict for t in tokens):
            return []
        documents, scores = retriever.retrieve([tokens], k=K, show_progress=False)
        return [int(d) for d, s in zip(documents[0], scores[0], strict=True) if s > 0]

    for tokens in timed[:WARMUP_QUERIES]:
        top(tokens)
    seconds: list[float] = []
    tops: list[list[int]] = []
    for tokens in timed:
        t0 = time.perf_counter()
        found = top(tokens)
        seconds.append(time.perf_counter() - t0)
        tops.append(found)
    return {
        "load_seconds": load_seconds,
        "latency": percentiles(seconds),
        "peak_rss": peak_rss_bytes(),
        "tops": tops,
        "dev_ranked": [top(tokens) for tokens in dev],
    }


def child_publish(index_dir: str, corpus: str, issue_file: str) -> Figures:
    """Publish one issue into the index as a new segment; then reload and look for it."""
    from index.corpus import read_manifest
    from index.publish import parse_upload
    from index.search import SearchEngine
    from index.store import add_articles
    from index.tokenize import names_from_street, names_from_text

    path = Path(issue_file)
    manifest, _ = read_manifest(path.parent)
    facts = manifest.get(path.name, {})
    issue, articles, text = parse_upload(
        path.read_bytes(),
        path.name,
        str(facts.get("street", "")),
        str(facts.get("month", "")),
        str(facts.get("district", "")),
        str(facts.get("newspaper", "")),
    )
    words = names_from_street(issue.street) | names_from_text(text)
    started = time.perf_counter()
    add_articles(Path(index_dir), issue, articles, Path(corpus), words)
    publish_seconds = time.perf_counter() - started
    started = time.perf_counter()
    engine = SearchEngine.open(Path(index_dir))
    reload_seconds = time.perf_counter() - started
    found = 0
    for article in articles:
        ranked = engine.raw_top(article.title, K)
        if any(engine.index.article(doc).id == article.id for doc, _ in ranked):
            found += 1
    return {
        "issue": path.name,
        "articles": len(articles),
        "seconds": publish_seconds,
        "reload_seconds": reload_seconds,
        "found": found,
    }


# --- the run --------------------------------------------------------------------------


def _same_top(ours: list[tuple[int, float]], theirs: list[int]) -> bool:
    return {d for d, _ in ours} == set(theirs)


def _quality(ranked: list[list[int]], ids: list[str], gold: list[str]) -> Figures:
    return ranking_metrics([[ids[d] for d in docs] for docs in ranked], gold)


def _exact_agreement(ours: list[list[tuple[int, float]]], exact: list[list[tuple[int, float]]]) -> Figures:
    same = 0
    worst = 0.0
    for mine, theirs in zip(ours, exact, strict=False):
        if [d for d, _ in mine] == [d for d, _ in theirs]:
            same += 1
        reference = dict(theirs)
        for doc, score in mine:
            if doc in reference:
                worst = max(worst, abs(score - reference[doc]) / max(abs(reference[doc]), 1e-12))
    return {"queries": min(len(ours), len(exact)), "same_top10": same, "max_relative_score_difference": worst}


def measure_size(options: BenchOptions, size: int | None, report: Report) -> Figures:
    """Every figure for one corpus size."""
    label = ALL if size is None else str(size)
    if size is None:
        corpus = options.archive
    else:
        corpus = options.work_dir / f"corpus-{label}" / "news.jsonl"
        real, made = write_corpus(options.archive, size, corpus)
        if made:
            report(f"[{label}] {real:,} real articles and {made:,} made from their passages (index/bench_corpus.py)")
        elif real < size:
            report(f"[{label}] the archive holds only {real} articles")
    index_dir = options.work_dir / f"index-{label}"
    shutil.rmtree(index_dir, ignore_errors=True)
    figures: Figures = {"size": label, "corpus": str(corpus)}
    references = options.references and (size is None or size <= options.reference_limit)
    if options.references and not references:
        report(f"[{label}] references left out above {options.reference_limit:,} articles")

    if references:
        report(f"[{label}] segmentation reference (one process, no cache)")
        figures["segmentation"] = run_isolated(child_segmentation_reference, str(corpus), options.params)
    report(f"[{label}] building the index")
    figures["build"] = run_isolated(child_build, str(corpus), str(index_dir), options.params, options.workers)
    figures["articles"] = figures["build"]["articles"]
    figures["index_bytes"] = directory_bytes(index_dir)
    report(f"[{label}] rebuilding with nothing changed")
    figures["rebuild"] = run_isolated(child_build, str(corpus), str(index_dir), options.params, options.workers)
    if references and resolve_segmenter(options.params.segmenter) != "jieba":
        report(f"[{label}] the same index segmented with jieba, to compare top 10s")
        jieba_dir = options.work_dir / f"index-{label}-jieba"
        shutil.rmtree(jieba_dir, ignore_errors=True)
        jieba_params = replace(options.params, segmenter="jieba")
        figures["jieba_build"] = run_isolated(child_build, str(corpus), str(jieba_dir), jieba_params, options.workers)
        figures["segmenter_agreement"] = run_isolated(
            child_segmenter_agreement,
            str(index_dir),
            str(jieba_dir),
            read_queries(options.data_dir / "queries.txt"),
            options.n_queries,
        )
        shutil.rmtree(jieba_dir, ignore_errors=True)

    ids = index_ids(index_dir)
    known = set(ids)
    dev = [(q, g) for q, g in read_dev(options.data_dir / "dev_questions.jsonl") if g in known]
    gold = [g for _, g in dev]
    report(f"[{label}] serving: start-up, latency, quality")
    ours = run_isolated(
        child_serve_ours,
        str(index_dir),
        options.search,
        read_queries(options.data_dir / "queries.txt"),
        [q for q, _ in dev],
        options.n_queries,
    )
    timed, dev_tokens, our_tops = ours.pop("timed_tokens"), ours.pop("dev_tokens"), ours.pop("tops")
    ours["quality"] = _quality(ours.pop("dev_ranked"), ids, gold)
    ours["answer_quality"] = ranking_metrics(ours.pop("dev_answered"), gold)
    figures["ours"] = ours
    figures["dev_questions"] = len(dev)

    if references:
        report(f"[{label}] rank-bm25 (this is the slow one)")
        rank = run_isolated(child_rank_bm25, str(index_dir), options.params, timed, dev_tokens)
        rank["agreement"] = _exact_agreement(our_tops, rank.pop("exact"))
        rank["token_lists"] = run_isolated(child_rank_bm25_token_lists, str(index_dir), options.params)
        rank["quality"] = _quality(rank.pop("dev_ranked"), ids, gold)
        figures["rank_bm25"] = rank
        try:
            import bm25s  # noqa: F401  (only whether it is installed)
        except ImportError:
            figures["bm25s"] = {"missing": "pip install -e '.[bench]'"}
        else:
            report(f"[{label}] bm25s")
            save_dir = options.work_dir / f"bm25s-{label}"
            shutil.rmtree(save_dir, ignore_errors=True)
            built = run_isolated(child_bm25s_build, str(index_dir), options.params, str(save_dir))
            served = run_isolated(child_bm25s_serve, str(save_dir), timed, dev_tokens)
            served["build_seconds"] = built["build_seconds"]
            served["build_peak_rss"] = built["peak_rss"]
            served["same_top10_sets"] = sum(map(_same_top, our_tops, served.pop("tops"))) / max(len(our_tops), 1)
            served["quality"] = _quality(served.pop("dev_ranked"), ids, gold)
            figures["bm25s"] = served
            shutil.rmtree(save_dir, ignore_errors=True)

    issue = options.issue_file
    if issue is not None:
        report(f"[{label}] publishing {issue.name}")
        figures["publish"] = run_isolated(child_publish, str(index_dir), str(corpus), str(issue))
    return figures


def run_benchmark(options: BenchOptions, report: Report | None = None) -> Figures:
    """Measure every size; the result is plain data (see `format_report`)."""
    say: Report = report or (lambda message: log.info("%s", message))
    if not options.archive.exists():
        raise BenchmarkError(f"no benchmark data at {options.data_dir} (news.jsonl.xz missing)")
    options.work_dir.mkdir(parents=True, exist_ok=True)
    started = time.perf_counter()
    results: Figures = {
        "machine": {"cpus": os.cpu_count(), "load_average_at_start": os.getloadavg()},
        "queries": options.n_queries,
        "sizes": [],
    }
    for size in options.sizes:
        results["sizes"].append(measure_size(options, size, say))
    results["machine"]["load_average_at_end"] = os.getloadavg()
    results["seconds"] = time.perf_counter() - started
    return results


# --- presenting -----------------------------------------------------------------------


def _get(data: Figures, *path: str) -> Any:
    value: Any = data
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _ratio(numerator: Any, denominator: Any) -> float | None:
    if numerator is None or denominator in (None, 0):
        return None
    return float(numerator) / float(denominator)


def _fmt(value: Any, digits: int = 2, suffix: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}{suffix}"
    if isinstance(value, int):
        return f"{value:,}{suffix}"
    return f"{value}{suffix}"


def _mb(value: Any) -> str:
    return "–" if value is None else f"{value / 2**20:,.0f} MB"


def size_label(figures: Figures) -> str:
    """A size's figures named by their article count ("68,221 articles")."""
    return f"{figures.get('articles', 0):,} articles"


def target_rows(figures: Figures) -> list[tuple[str, str, str, bool | None]]:
    """(target, limit, measured, met) for one size's figures."""
    build = _get(figures, "build", "seconds")
    rows: list[tuple[str, str, str, bool | None]] = []

    def add(name: str, limit: str, value: float | None, met: bool | None, text: str | None = None) -> None:
        rows.append((name, limit, text if text is not None else _fmt(value, 2), met))

    ours_p50 = _get(figures, "ours", "rank", "p50")
    rank_p50 = _get(figures, "rank_bm25", "latency", "p50")
    speedup = _ratio(rank_p50, ours_p50)
    add(
        "query latency vs rank-bm25 get_top_n (p50)",
        "≥ 100× faster",
        speedup,
        None if speedup is None else speedup >= 100,
        None if speedup is None else f"{speedup:,.0f}× faster",
    )
    answer_speedup = _ratio(rank_p50, _get(figures, "ours", "answer", "p50"))
    add(
        "answer path (everything a question costs) vs rank-bm25 get_top_n (p50)",
        "(no target)",
        answer_speedup,
        None,
        None if answer_speedup is None else f"{answer_speedup:,.0f}× faster",
    )
    for pct in ("p50", "p95", "p99"):
        ours = _get(figures, "ours", "rank", pct)
        theirs = _get(figures, "bm25s", "latency", pct)
        ratio = _ratio(ours, theirs)
        add(
            f"query latency vs bm25s ({pct})",
            "≤ 1× bm25s",
            ratio,
            None if ratio is None else ratio <= 1.0,
            None if ratio is None else f"{_fmt(ours, 3)} vs {_fmt(theirs, 3)} ms ({ratio:.2f}×)",
        )
    agreement = _get(figures, "rank_bm25", "agreement")
    if agreement:
        same, total = agreement["same_top10"], agreement["queries"]
        add(
            "same top 10 as rank-bm25 (exact scores)",
            "all",
            None,
            same == total,
            f"{same}/{total}, scores within {agreement['max_relative_score_difference']:.1e}",
        )
    memory = _ratio(_get(figures, "ours", "peak_rss"), _get(figures, "rank_bm25", "token_lists", "peak_rss"))
    add(
        "peak memory serving / rank-bm25's (built from token lists)",
        "≤ 0.33",
        memory,
        None if memory is None else memory <= 1 / 3,
    )
    bare = _ratio(_get(figures, "ours", "peak_rss"), _get(figures, "rank_bm25", "peak_rss"))
    add("peak memory serving / rank-bm25's own structures (streamed)", "(no target)", bare, None)
    seg = _ratio(build, _get(figures, "segmentation", "jieba_seconds"))
    add("index build / 1-process jieba segmentation", "≤ 0.15", seg, None if seg is None else seg <= 0.15)
    rebuild = _ratio(_get(figures, "rebuild", "seconds"), build)
    add("rebuild, nothing changed / full build", "≤ 0.1", rebuild, None if rebuild is None else rebuild <= 0.1)
    publish = _ratio(_get(figures, "publish", "seconds"), build)
    found = _get(figures, "publish", "found")
    publish_met = None if publish is None else publish <= 0.02 and found == _get(figures, "publish", "articles")
    add(
        "publish one issue / full build (and searchable)",
        "≤ 0.02",
        publish,
        publish_met,
        None if publish is None else f"{publish:.4f} ({found}/{_get(figures, 'publish', 'articles')} found at once)",
    )
    load = _ratio(_get(figures, "ours", "load_seconds"), build)
    add("index load at start-up / full build", "≤ 0.05", load, None if load is None else load <= 0.05)
    first = _get(figures, "ours", "first_answer_seconds")
    add(
        "first answer after start (jieba included)",
        "a few seconds",
        first,
        None if first is None else first <= 5.0,
        _fmt(first, 2, " s"),
    )
    ours_q, rank_q = _get(figures, "ours", "quality"), _get(figures, "rank_bm25", "quality")
    if ours_q and rank_q:
        add(
            "quality vs rank-bm25 (recall@10, MRR@10)",
            "no drop",
            None,
            ours_q["recall@10"] >= rank_q["recall@10"] - 1e-9 and ours_q["mrr@10"] >= rank_q["mrr@10"] - 1e-9,
            f"{ours_q['recall@10']:.3f}/{ours_q['mrr@10']:.3f} vs {rank_q['recall@10']:.3f}/{rank_q['mrr@10']:.3f}",
        )
    answer_q = _get(figures, "ours", "answer_quality")
    if answer_q and rank_q:
        add(
            "answer path quality vs rank-bm25 on the same tokens (recall@10, MRR@10)",
            "(see newsbot eval --baseline)",
            None,
            None,
            f"{answer_q['recall@10']:.3f}/{answer_q['mrr@10']:.3f} vs {rank_q['recall@10']:.3f}/{rank_q['mrr@10']:.3f}",
        )
    _scale_rows(figures, add)
    return rows


def _scale_rows(figures: Figures, add: Callable[..., None]) -> None:
    """The answer path and memory targets, and at city size (CITY_ARTICLES) the city's."""
    agreement = figures.get("segmenter_agreement")
    if agreement:
        add(
            f"top 10 with {agreement['segmenter']} as with {agreement['reference']}, but for number/Latin runs",
            "all",
            None,
            agreement["same_set"] + agreement["differ_other"] == 0,
            f"{agreement['same_order']} the same; {agreement['differ_question_tokens']} differ where the "
            f"question's number/Latin tokens do; otherwise {agreement['same_set']} reordered, "
            f"{agreement['differ_other']} other (of {agreement['questions']})",
        )
    answer_p50 = _get(figures, "ours", "answer", "p50")
    if int(figures.get("articles") or 0) < CITY_ARTICLES:  # the city's own latency target is p95
        add(
            "answer path p50 (tokenize, rank, no-answer check, snippets)",
            "≤ 5 ms",
            answer_p50,
            None if answer_p50 is None else answer_p50 <= 5.0,
            _fmt(answer_p50, 2, " ms"),
        )
    bm25s_memory = _ratio(_get(figures, "ours", "peak_rss"), _get(figures, "bm25s", "peak_rss"))
    add(
        "peak memory serving / bm25s's",
        "≤ 1",
        bm25s_memory,
        None if bm25s_memory is None else bm25s_memory <= 1.0,
    )
    if int(figures.get("articles") or 0) < CITY_ARTICLES:
        return
    build = _get(figures, "build", "seconds")
    add("build at city size", "≤ 10 min", build, None if build is None else build <= 600, _fmt(build, 0, " s"))
    rss = _get(figures, "ours", "peak_rss")
    add("peak RSS serving at city size", "≤ 1.5 GB", rss, None if rss is None else rss <= 1.5 * 2**30, _mb(rss))
    load = _get(figures, "ours", "load_seconds")
    add("index load at city size", "≤ 3 s", load, None if load is None else load <= 3.0, _fmt(load, 2, " s"))
    p95 = _get(figures, "ours", "answer", "p95")
    add("answer path p95 at city size", "≤ 25 ms", p95, None if p95 is None else p95 <= 25.0, _fmt(p95, 2, " ms"))
    publish = _get(figures, "publish", "seconds")
    found, wanted = _get(figures, "publish", "found"), _get(figures, "publish", "articles")
    add(
        "publish one issue at city size (searchable at once)",
        "≤ 2 s",
        publish,
        None if publish is None else publish <= 2.0 and found == wanted,
        None if publish is None else f"{publish:.2f} s ({found}/{wanted} found at once)",
    )


def _system_rows(figures: Figures) -> list[list[str]]:
    rows = []
    ours = figures.get("ours", {})
    quality = ours.get("quality") or {}
    rows.append(
        [
            "newsbot BM25 (ranking)",
            _fmt(_get(figures, "build", "seconds"), 1, " s"),
            _fmt(ours.get("load_seconds"), 2, " s"),
            _mb(ours.get("peak_rss")),
            _fmt(_get(ours, "rank", "p50"), 3),
            _fmt(_get(ours, "rank", "p95"), 3),
            _fmt(_get(ours, "rank", "p99"), 3),
            _fmt(quality.get("recall@10"), 3),
            _fmt(quality.get("mrr@10"), 3),
            "–",
        ]
    )
    answer_quality = ours.get("answer_quality") or {}
    rows.append(
        [
            "newsbot answer (words + bigrams + proximity + coverage + near-duplicates + snippets)",
            "",
            "",
            "",
            _fmt(_get(ours, "answer", "p50"), 3),
            _fmt(_get(ours, "answer", "p95"), 3),
            _fmt(_get(ours, "answer", "p99"), 3),
            _fmt(answer_quality.get("recall@10"), 3),
            _fmt(answer_quality.get("mrr@10"), 3),
            "",
        ]
    )
    for key, name in (("rank_bm25", "rank-bm25 BM25Okapi.get_top_n"), ("bm25s", "bm25s retrieve (atire/robertson)")):
        system = figures.get(key)
        if not system:
            continue
        if "missing" in system:
            rows.append([name, f"not installed: {system['missing']}", "", "", "", "", "", "", "", ""])
            continue
        q = system.get("quality") or {}
        agreement = system.get("agreement")
        if agreement:
            same = f"{agreement['same_top10']}/{agreement['queries']} identical (scored exactly)"
        elif system.get("same_top10_sets") is not None:
            same = f"{system['same_top10_sets']:.1%} same sets"
        else:
            same = "–"
        rows.append(
            [
                name,
                _fmt(system.get("build_seconds"), 1, " s"),
                _fmt(system.get("load_seconds"), 2, " s"),
                _mb(system.get("peak_rss")),
                _fmt(_get(system, "latency", "p50"), 3),
                _fmt(_get(system, "latency", "p95"), 3),
                _fmt(_get(system, "latency", "p99"), 3),
                _fmt(q.get("recall@10"), 3),
                _fmt(q.get("mrr@10"), 3),
                same,
            ]
        )
    return rows


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


def format_report(results: Figures) -> str:
    """The results as markdown: one section per size, then the targets (largest size, and 50k+)."""
    lines: list[str] = []
    sizes: list[Figures] = results.get("sizes", [])
    columns = [size_label(f) for f in sizes]
    overview = [
        ("text segmented (characters)", lambda f: _fmt(_get(f, "segmentation", "chars"))),
        ("segmenter", lambda f: str(_get(f, "segmentation", "segmenter") or "–")),
        ("1-process segmentation as the product does it (s)", lambda f: _fmt(_get(f, "segmentation", "seconds"), 1)),
        (
            "1-process segmentation, the same steps with jieba (s)",
            lambda f: _fmt(_get(f, "segmentation", "jieba_seconds"), 1),
        ),
        (
            "1-process plain jieba cut_for_search (s)",
            lambda f: _fmt(_get(f, "segmentation", "jieba_cut_for_search_seconds"), 1),
        ),
        ("index build, all cores (s)", lambda f: _fmt(_get(f, "build", "seconds"), 1)),
        ("the same build with jieba (s)", lambda f: _fmt(_get(f, "jieba_build", "seconds"), 1)),
        (
            "build / jieba segmentation",
            lambda f: _fmt(_ratio(_get(f, "build", "seconds"), _get(f, "segmentation", "jieba_seconds"))),
        ),
        ("rebuild, nothing changed (s)", lambda f: _fmt(_get(f, "rebuild", "seconds"), 2)),
        ("rebuild / build", lambda f: _fmt(_ratio(_get(f, "rebuild", "seconds"), _get(f, "build", "seconds")), 3)),
        ("publish one issue (s)", lambda f: _fmt(_get(f, "publish", "seconds"), 2)),
        ("publish / build", lambda f: _fmt(_ratio(_get(f, "publish", "seconds"), _get(f, "build", "seconds")), 4)),
        ("reload after publishing (s)", lambda f: _fmt(_get(f, "publish", "reload_seconds"), 2)),
        ("index size on disk", lambda f: _mb(f.get("index_bytes"))),
        ("index load at start-up (s)", lambda f: _fmt(_get(f, "ours", "load_seconds"), 2)),
        ("load / build", lambda f: _fmt(_ratio(_get(f, "ours", "load_seconds"), _get(f, "build", "seconds")), 3)),
        ("first answer after start (s)", lambda f: _fmt(_get(f, "ours", "first_answer_seconds"), 2)),
        ("peak RSS serving: newsbot", lambda f: _mb(_get(f, "ours", "peak_rss"))),
        (
            "peak RSS: rank-bm25 built from token lists (usual)",
            lambda f: _mb(_get(f, "rank_bm25", "token_lists", "peak_rss")),
        ),
        ("peak RSS: rank-bm25 streamed (its structures only)", lambda f: _mb(_get(f, "rank_bm25", "peak_rss"))),
        ("peak RSS serving: bm25s", lambda f: _mb(_get(f, "bm25s", "peak_rss"))),
        (
            "memory newsbot / rank-bm25 (usual)",
            lambda f: _fmt(_ratio(_get(f, "ours", "peak_rss"), _get(f, "rank_bm25", "token_lists", "peak_rss")), 3),
        ),
        (
            "memory newsbot / rank-bm25 (streamed)",
            lambda f: _fmt(_ratio(_get(f, "ours", "peak_rss"), _get(f, "rank_bm25", "peak_rss")), 3),
        ),
        (
            "p50 speed-up vs rank-bm25",
            lambda f: _fmt(_ratio(_get(f, "rank_bm25", "latency", "p50"), _get(f, "ours", "rank", "p50")), 0, "×"),
        ),
        (
            "p50 speed-up vs bm25s",
            lambda f: _fmt(_ratio(_get(f, "bm25s", "latency", "p50"), _get(f, "ours", "rank", "p50")), 2, "×"),
        ),
        ("dev questions with their article in the corpus", lambda f: _fmt(f.get("dev_questions"))),
    ]
    lines.append("### Build, incremental indexing, start-up, memory")
    lines.append("")
    lines.extend(_table(["", *columns], [[name, *(get(f) for f in sizes)] for name, get in overview]))
    header = [
        "system",
        "build",
        "load",
        "peak RSS",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "recall@10",
        "MRR@10",
        "top 10 vs ours",
    ]
    for figures in sizes:
        lines.extend(["", f"### Queries at {size_label(figures)} ({_get(figures, 'ours', 'rank', 'n')} questions)", ""])
        lines.extend(_table(header, _system_rows(figures)))
    # Targets at the largest size and at every size of a realistic archive or more.
    for figures in sizes:
        if figures is not sizes[-1] and int(figures.get("articles") or 0) < TARGET_MIN_ARTICLES:
            continue
        lines.extend(["", f"### Targets at {size_label(figures)}", ""])
        lines.extend(
            _table(
                ["target", "limit", "measured", "met"],
                [
                    [name, limit, value, {True: "yes", False: "**no**", None: "–"}[met]]
                    for name, limit, value, met in target_rows(figures)
                ],
            )
        )
    machine = results.get("machine", {})
    load_average = machine.get("load_average_at_start")
    if load_average:
        lines.extend(
            [
                "",
                f"{machine.get('cpus')} cores; load average {load_average[0]:.2f} at the start, "
                f"{machine.get('load_average_at_end', [0])[0]:.2f} at the end; "
                f"{results.get('seconds', 0) / 60:.1f} min.",
            ]
        )
    return "\n".join(lines)
