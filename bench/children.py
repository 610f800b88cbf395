"""What each fresh process measures: one-process segmentation of the same text, our build, serving
and publishing, the segmenters' agreement, and rank-bm25 and bm25s built from our token lists.
The references are imported lazily here: bm25s is the optional `[bench]` extra.
"""

from __future__ import annotations

import logging
import os
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench.data import index_ids, read_vocabulary, stream_bags, top_by_score
from bench.figures import AGREEMENT_QUERIES, WARMUP_QUERIES, Figures, K
from bench.isolate import peak_rss_bytes, percentiles
from index.settings import IndexParams, SearchSettings

log = logging.getLogger(__name__)


def child_segmentation_reference(corpus: str, params: IndexParams) -> Figures:
    """One process segmenting the text the index segments into its token stream, text by text.

    Timed with the product's segmenter and with jieba (the reference the build is measured
    against), and plain `jieba.cut_for_search` over the same text, for context. Dictionary
    loading is left out of all three times.
    """
    import jieba

    from index.corpus import load_corpus
    from index.indexed_text import weighted_text_parts
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
        tokenizer = Tokenizer(user_words, segmenter=segmenter)
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


def child_build(corpus: str, index_dir: str, params: IndexParams, workers: int, keep: bool = True) -> Figures:
    """`build_index` into `index_dir` (a rebuild when an index is already there; `keep`: see build_index)."""
    from index.build import build_index

    report = build_index(Path(corpus), Path(index_dir), params, workers=workers, keep_unchanged=keep)
    return {
        "kept": report.kept,
        "seconds": report.seconds,
        "articles": report.n_articles,
        "segmented": report.segmented,
        "reused": report.reused,
        "steps": report.steps,
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
    """Publish one issue into the index as a new segment, from a process serving the index (as the
    bot is); then reload and look for it."""
    from index.append import add_articles
    from index.manifest import read_manifest
    from index.publish import parse_upload
    from index.search import SearchEngine
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
    # Staff publish into a bot that is serving: its modules are imported and its engine open
    # (the segmenter loaded, the folding tables built). Timed from there, as they wait.
    serving = SearchEngine.open(Path(index_dir))
    serving.raw_top(articles[0].title, K)
    started = time.perf_counter()
    add_articles(Path(index_dir), issue, articles, Path(corpus), words)
    publish_seconds = time.perf_counter() - started
    serving.index.close()
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
