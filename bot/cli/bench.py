"""`newsbot bench`: the scale benchmark from the command line (the measuring is bench.benchmark's).

    newsbot bench [--data ../shared/bench] [--sizes 1000,10000,all] [--queries 500]
                  [--skip-reference] [--reference-limit N] [--json] [--work DIR] [--issue FILE]
    newsbot bench --throughput [--rates 5,10,20,40,80] [--step-seconds 10] [--index DIR --corpus PATH]

Prints progress on standard error and the results (markdown tables, or JSON with --json) on
standard output. Targets are reported, not enforced: the exit code is 0 whenever every
measurement could be made.
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from bench.benchmark import BenchOptions, parse_sizes, run_benchmark
from bench.figures import REFERENCE_LIMIT, BenchmarkError
from bench.report import format_report
from bot.core.exit_codes import EXIT_FAILED, EXIT_OK, EXIT_USAGE
from bot.core.settings import Settings

DEFAULT_DATA = "../shared/bench"


def _first_issue(corpus_dir: Path) -> Path | None:
    """The issue text file `bench` publishes by default: the corpus's first .txt."""
    if not corpus_dir.is_dir():
        return None
    issues = sorted(p for p in corpus_dir.iterdir() if p.suffix == ".txt" and not p.name.startswith("."))
    return issues[0] if issues else None


def _data_dir(wanted: str, settings: Settings) -> Path | None:
    # Relative to where the command runs, else to the project (the configuration file's folder).
    for candidate in (Path(wanted), settings.config_path.parent / wanted):
        if (candidate / "news.jsonl.xz").exists():
            return candidate.resolve()
    return None


def _progress(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def cmd_bench(settings: Settings, args: argparse.Namespace) -> int:
    """Measure build, publish, start-up, memory, latency and quality against rank-bm25 and bm25s."""
    data = _data_dir(args.data, settings)
    if data is None:
        print(f"no benchmark data (news.jsonl.xz) at {args.data}; pass --data DIR", file=sys.stderr)
        return EXIT_USAGE
    if args.throughput:
        return _throughput(settings, args, data)
    try:
        sizes = parse_sizes(args.sizes)
    except ValueError as exc:
        print(f"--sizes: {exc}", file=sys.stderr)
        return EXIT_USAGE
    if args.queries < 1:
        print("--queries must be at least 1", file=sys.stderr)
        return EXIT_USAGE
    issue = Path(args.issue) if args.issue else _first_issue(settings.corpus_dir)
    if issue is not None and not issue.is_file():
        print(f"--issue: no file {issue}", file=sys.stderr)
        return EXIT_USAGE
    with tempfile.TemporaryDirectory(prefix="newsbot-bench-") as scratch:
        options = BenchOptions(
            data_dir=data,
            work_dir=Path(args.work) if args.work else Path(scratch),
            sizes=sizes,
            n_queries=args.queries,
            references=not args.skip_reference,
            reference_limit=args.reference_limit,
            workers=settings.workers,
            issue_file=issue,
            params=settings.index,
            search=settings.search,
        )
        _progress(f"benchmark data: {data}; work directory: {options.work_dir}")
        if issue is None:
            _progress("no issue .txt in the corpus to publish: the publish figures are skipped (see --issue)")
        try:
            results = run_benchmark(options, _progress)
        except BenchmarkError as exc:
            print(f"benchmark failed: {exc}", file=sys.stderr)
            return EXIT_FAILED
    if args.json:
        print(json.dumps(results, ensure_ascii=False, indent=1))
    else:
        print(format_report(results))
    return EXIT_OK


def _throughput(settings: Settings, args: argparse.Namespace, data: Path) -> int:
    """`--throughput`: one `newsbot run` process under a growing load (bench.throughput)."""
    from bench.throughput import ThroughputError, ThroughputOptions, format_throughput, run_throughput

    try:
        rates = [int(part) for part in args.rates.split(",") if part.strip()]
    except ValueError:
        rates = []
    if not rates or min(rates) < 1:
        print(f"--rates: expected positive numbers like 5,10,20, not {args.rates!r}", file=sys.stderr)
        return EXIT_USAGE
    questions = [q.strip() for q in (data / "queries.txt").read_text(encoding="utf-8").splitlines() if q.strip()]
    options = ThroughputOptions(
        config=settings.config_path,
        index_dir=settings.index_dir,
        corpus_dir=settings.corpus_dir,
        questions=questions,
        rates=rates,
        step_seconds=args.step_seconds,
    )
    _progress(f"throughput of one bot process on {settings.index_dir}, rates {rates} questions/s")
    try:
        figures = run_throughput(options)
    except ThroughputError as exc:
        print(f"throughput: {exc}", file=sys.stderr)
        return EXIT_FAILED
    print(json.dumps(figures, ensure_ascii=False, indent=1) if args.json else format_throughput(figures))
    return EXIT_OK


def add_bench_parser(subparsers: Any, common: Callable[[argparse.ArgumentParser], None]) -> None:
    """Register `newsbot bench` (called by bot.cli.commands when this module is present)."""
    p = subparsers.add_parser("bench", help="benchmark speed and memory at scale", description=cmd_bench.__doc__)
    common(p)
    p.add_argument("--data", default=DEFAULT_DATA, help=f"benchmark data directory (default {DEFAULT_DATA})")
    p.add_argument("--sizes", default="1000,10000,all", help="article counts to measure, 'all' for the whole archive")
    p.add_argument("--queries", type=int, default=500, help="timed questions per system (default 500)")
    p.add_argument(
        "--skip-reference",
        action="store_true",
        help="measure only newsbot (no rank-bm25, bm25s or segmentation reference: much faster)",
    )
    p.add_argument(
        "--reference-limit",
        type=int,
        default=REFERENCE_LIMIT,
        help=f"largest size the references are measured at (default {REFERENCE_LIMIT:,}; beyond the archive's "
        "68k articles the corpus is made from its passages, e.g. --sizes all,500k)",
    )
    p.add_argument(
        "--throughput",
        action="store_true",
        help="instead: questions a second one `newsbot run` sustains through the fake Bot API, and its CPU profile",
    )
    p.add_argument("--rates", default="5,10,20,40,80", help="with --throughput: questions a second to offer in turn")
    p.add_argument("--step-seconds", type=float, default=10.0, help="with --throughput: seconds each rate is offered")
    p.add_argument("--json", action="store_true", help="print every figure as JSON")
    p.add_argument("--work", help="where to build the indexes (default: a temporary directory, removed after)")
    p.add_argument("--issue", help="issue .txt to publish into each index (default: the corpus's first .txt)")
    p.set_defaults(func=cmd_bench)
