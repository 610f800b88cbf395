"""The scale benchmark: our index against rank-bm25 and bm25s on the same tokens, at several sizes.

This module owns the run (`run_benchmark`, one `measure_size` per size); `bench.report` presents
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

import logging
import os
import shutil
import time
from dataclasses import dataclass, field, replace
from pathlib import Path

from bench.children import (
    child_bm25s_build,
    child_bm25s_serve,
    child_build,
    child_publish,
    child_rank_bm25,
    child_rank_bm25_token_lists,
    child_segmentation_reference,
    child_segmenter_agreement,
    child_serve_ours,
)
from bench.corpus import write_corpus
from bench.data import directory_bytes, index_ids, read_dev, read_queries
from bench.evaluate import ranking_metrics
from bench.figures import ALL, REFERENCE_LIMIT, BenchmarkError, Figures, Report
from bench.isolate import run_isolated
from index.segmenter import resolve as resolve_segmenter
from index.settings import IndexParams, SearchSettings

log = logging.getLogger(__name__)


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
            report(f"[{label}] {real:,} real articles and {made:,} made from their passages (bench/corpus.py)")
        elif real < size:
            report(f"[{label}] the archive holds only {real} articles")
    index_dir = options.work_dir / f"index-{label}"
    shutil.rmtree(index_dir, ignore_errors=True)
    figures: Figures = {"size": label, "corpus": str(corpus)}
    references = options.references and (size is None or size <= options.reference_limit)
    if options.references and not references:
        report(f"[{label}] references left out above {options.reference_limit:,} articles")

    if references:
        report(f"[{label}] segmentation reference (one process, text by text)")
        figures["segmentation"] = run_isolated(child_segmentation_reference, str(corpus), options.params)
    report(f"[{label}] building the index")
    figures["build"] = run_isolated(child_build, str(corpus), str(index_dir), options.params, options.workers)
    figures["articles"] = figures["build"]["articles"]
    figures["index_bytes"] = directory_bytes(index_dir)
    report(f"[{label}] rebuilding with nothing changed")
    figures["rebuild"] = run_isolated(child_build, str(corpus), str(index_dir), options.params, options.workers)
    # The same rebuild when the index may not be kept as it is: the corpus read, every article reused.
    report(f"[{label}] rebuilding with nothing changed, reading the corpus again")
    figures["rebuild_read"] = run_isolated(
        child_build, str(corpus), str(index_dir), options.params, options.workers, False
    )
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
