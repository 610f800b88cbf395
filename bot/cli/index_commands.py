"""`newsbot index`, `search`, `list` and `show`: building the index and reading it from the
terminal, with progress, waiting for another writer, and skipped files named on standard error.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from collections.abc import Sequence
from typing import Any

from bot.core import replies
from bot.core.exit_codes import EXIT_OK, EXIT_SKIPPED, EXIT_USAGE
from bot.core.settings import Settings
from index.maintenance import OpenReport, open_engine
from index.records import Skipped
from index.search import SearchEngine
from index.search_response import SearchResponse

log = logging.getLogger(__name__)


class Progress:
    """A one-line progress bar on standard error (only when it is a terminal)."""

    def __init__(self, stream: Any = None) -> None:
        self.stream = stream or sys.stderr
        self.enabled = bool(getattr(self.stream, "isatty", lambda: False)())
        self._last = ""

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.enabled or total <= 0:
            return
        width = 30
        filled = int(width * done / total)
        line = f"\r{stage:<11} [{'#' * filled}{'.' * (width - filled)}] {done}/{total} {100 * done // total:3d}%"
        if line != self._last:
            self.stream.write(line)
            if done >= total:
                self.stream.write("\n")
            self.stream.flush()
            self._last = line


def report_skipped(skipped: Sequence[Skipped]) -> None:
    for problem in skipped:
        print(f"skipped {problem.path}: {problem.reason}", file=sys.stderr)


def _say_waiting(who: str) -> None:
    print(f"waiting for the index lock held by {who} …", file=sys.stderr)


def open_index(settings: Settings, force: bool = False) -> tuple[SearchEngine, OpenReport]:
    engine, report = open_engine(
        settings.corpus_dir,
        settings.index_dir,
        settings.index,
        settings.search,
        workers=settings.workers,
        progress=Progress(),
        force=force,
        on_wait=_say_waiting,
    )
    if report.built:
        done = "kept as it is, the corpus unchanged" if report.build and report.build.kept else "built"
        print(
            f"index {done} ({report.reason}): {report.build.n_articles if report.build else 0} articles "
            f"in {report.build.seconds if report.build else 0:.1f}s",
            file=sys.stderr,
        )
        report_skipped(report.skipped)
    return engine, report


def skipped_exit(report: OpenReport) -> int:
    return EXIT_SKIPPED if report.skipped else EXIT_OK


def cmd_index(settings: Settings, args: argparse.Namespace) -> int:
    """Build the index (when stale, or always with --force)."""
    engine, report = open_index(settings, force=args.force)
    if not report.built:
        print(f"index is up to date: {engine.index.n_docs} articles in {settings.index_dir}")
        skipped = [Skipped(p, r) for p, r in engine.index.meta.get("skipped", [])]
        report_skipped(skipped)
        return EXIT_SKIPPED if skipped else EXIT_OK
    build = report.build
    assert build is not None
    if build.kept:
        print(
            f"index kept as it is: the corpus files are byte for byte those it was built from "
            f"({build.n_articles} articles from {build.n_issues} files, checked in {build.seconds:.1f}s); "
            f"to build it from scratch, remove {settings.index_dir} first"
        )
        return skipped_exit(report)
    print(
        f"indexed {build.n_articles} articles from {build.n_issues} files "
        f"({build.segmented} segmented, {build.reused} reused) in {build.seconds:.1f}s -> {settings.index_dir}"
    )
    if build.skipped:
        print(f"{len(build.skipped)} skipped (see above)", file=sys.stderr)
    return skipped_exit(report)


def _print_response(response: SearchResponse, show_text: bool = False) -> None:
    if response.problem:
        print(response.message)
        return
    if not response.results:
        print("没有找到相关的报道。可以换个说法，或用 `newsbot list` 看看有哪些文章。")
        return
    if response.suggestion:
        print(f"您是不是要找：{response.suggestion}")
    for number, result in enumerate(response.results, start=response.offset + 1):
        a = result.article
        where = " · ".join(p for p in (a.street, a.newspaper, a.date) if p)
        print(f"{number}. {a.title}")
        print(f"   {where} · {a.id} · score {result.score:.2f}")
        print(f"   {result.snippet.marked()}")
        if result.similar:
            print(f"   （{replies.similar_text(len(result.similar))}：{'、'.join(s.id for s in result.similar)}）")
        if show_text:
            print()
            print(a.body)
        print()


def cmd_search(settings: Settings, args: argparse.Namespace) -> int:
    """Answer a question, or every line of standard input (batch mode, JSON lines)."""
    engine, report = open_index(settings)
    if args.question is None:
        for line in sys.stdin:
            question = line.rstrip("\n")
            response = engine.search(question, limit=args.limit)
            print(json.dumps(response.to_dict(), ensure_ascii=False), flush=True)
        return skipped_exit(report)
    response = engine.search(args.question, limit=args.limit, offset=args.offset)
    if args.json:
        print(json.dumps(response.to_dict(), ensure_ascii=False, indent=None))
    else:
        _print_response(response)
    if response.problem:
        return EXIT_USAGE
    return skipped_exit(report)


def cmd_list(settings: Settings, args: argparse.Namespace) -> int:
    """List the indexed articles."""
    engine, report = open_index(settings)
    for article in engine.index.articles():
        if args.street and article.street and args.street not in article.street:
            continue
        if args.json:
            record = {
                "id": article.id,
                "title": article.title,
                "headline": article.headline,
                "issue": article.issue,
                "street": article.street,
                "date": article.date,
                "text": article.body,
                "captions": article.captions,
            }
            print(json.dumps(record, ensure_ascii=False))
        else:
            print(f"{article.id}\t{article.street or '-'}\t{article.date or '-'}\t{article.title}")
    return skipped_exit(report)


def cmd_show(settings: Settings, args: argparse.Namespace) -> int:
    """Print one article in full."""
    engine, _ = open_index(settings)
    article = engine.article(args.id)
    if article is None:
        print(f"no article with id {args.id!r} (see `newsbot list`)", file=sys.stderr)
        return EXIT_USAGE
    if args.json:
        print(json.dumps(article.to_dict(), ensure_ascii=False))
        return EXIT_OK
    print(article.title)
    print(" · ".join(p for p in (article.street, article.district, article.newspaper, article.date) if p))
    if article.byline:
        print(article.byline)
    print()
    print(article.body)
    if article.source:
        print(f"（{article.source}）")
    for caption in article.captions:
        print(f"[图] {caption}")
    return EXIT_OK
