"""The `newsbot` command line: index, search, list, show, summary, eval, publish, run, chat, state.

The library does the work; this module reads the configuration once, parses arguments,
prints, and turns outcomes into exit codes:

    0  done
    1  done, but some input was skipped (named on standard error)
    2  bad usage or input (nothing done)
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from bot import replies
from bot.settings import TOKEN_ENV, ConfigError, Settings, config_path, load_settings
from bot.state import DATABASE_ERRORS
from bot.state_dialect import redact
from index.corpus import Skipped
from index.maintenance import OpenReport, open_engine
from index.search import SearchEngine, SearchResponse

log = logging.getLogger(__name__)

EXIT_OK, EXIT_SKIPPED, EXIT_USAGE = 0, 1, 2


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


def _report_skipped(skipped: Sequence[Skipped]) -> None:
    for problem in skipped:
        print(f"skipped {problem.path}: {problem.reason}", file=sys.stderr)


def _say_waiting(who: str) -> None:
    print(f"waiting for the index lock held by {who} …", file=sys.stderr)


def _engine(settings: Settings, force: bool = False) -> tuple[SearchEngine, OpenReport]:
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
        print(
            f"index built ({report.reason}): {report.build.n_articles if report.build else 0} articles "
            f"in {report.build.seconds if report.build else 0:.1f}s",
            file=sys.stderr,
        )
        _report_skipped(report.skipped)
    return engine, report


def _skipped_exit(report: OpenReport) -> int:
    return EXIT_SKIPPED if report.skipped else EXIT_OK


# --- commands -------------------------------------------------------------------------


def cmd_index(settings: Settings, args: argparse.Namespace) -> int:
    """Build the index (when stale, or always with --force)."""
    engine, report = _engine(settings, force=args.force)
    if not report.built:
        print(f"index is up to date: {engine.index.n_docs} articles in {settings.index_dir}")
        skipped = [Skipped(p, r) for p, r in engine.index.meta.get("skipped", [])]
        _report_skipped(skipped)
        return EXIT_SKIPPED if skipped else EXIT_OK
    build = report.build
    assert build is not None
    print(
        f"indexed {build.n_articles} articles from {build.n_issues} files "
        f"({build.segmented} segmented, {build.reused} reused) in {build.seconds:.1f}s -> {settings.index_dir}"
    )
    if build.skipped:
        print(f"{len(build.skipped)} skipped (see above)", file=sys.stderr)
    return _skipped_exit(report)


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
    engine, report = _engine(settings)
    if args.question is None:
        for line in sys.stdin:
            question = line.rstrip("\n")
            response = engine.search(question, limit=args.limit)
            print(json.dumps(response.to_dict(), ensure_ascii=False), flush=True)
        return _skipped_exit(report)
    response = engine.search(args.question, limit=args.limit, offset=args.offset)
    if args.json:
        print(json.dumps(response.to_dict(), ensure_ascii=False, indent=None))
    else:
        _print_response(response)
    if response.problem:
        return EXIT_USAGE
    return _skipped_exit(report)


def cmd_list(settings: Settings, args: argparse.Namespace) -> int:
    """List the indexed articles."""
    engine, report = _engine(settings)
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
    return _skipped_exit(report)


def cmd_show(settings: Settings, args: argparse.Namespace) -> int:
    """Print one article in full."""
    engine, _ = _engine(settings)
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


def cmd_summary(settings: Settings, args: argparse.Namespace) -> int:
    """Print what staff broadcast for an issue: each headline and its key sentence."""
    engine, _ = _engine(settings)
    if args.check:
        return _summary_check(engine, args)
    if not args.issue:
        print("name an issue, or pass --check", file=sys.stderr)
        return EXIT_USAGE
    issue = engine.find_issue(args.issue)
    if issue is None:
        known = ", ".join(i.id for i in engine.issues[:10])
        print(f"no issue {args.issue!r}; issues: {known}", file=sys.stderr)
        return EXIT_USAGE
    lines = engine.summary(issue)
    if args.json:
        print(
            json.dumps(
                {
                    "issue": issue.id,
                    "street": issue.street,
                    "month": issue.month,
                    "articles": [{"id": a.id, "headline": a.title, "key_sentence": s} for a, s in lines],
                },
                ensure_ascii=False,
            )
        )
        return EXIT_OK
    print(f"{issue.street or issue.id} {issue.month}".strip() + f"（{len(lines)} 篇）")
    for article, sentence in lines:
        print(f"■ {article.title}")
        print(f"  {sentence}")
    return EXIT_OK


def _summary_check(engine: SearchEngine, args: argparse.Namespace) -> int:
    """Line checks on every issue (or a bench sample), this method beside the previous one."""
    from index.summary import lead_line, weighted_key_sentence
    from index.summary_check import CHECKS, article_lead, bench_sample, check_line, tally

    if args.bench:
        articles = bench_sample(Path(args.bench), args.sample)
        first = True
    else:
        articles = [a for issue in engine.issues for a in engine.issue_articles(issue)]
        first = False
    weights = engine.term_weights
    tokens = engine.index.tokenizer.document_tokens
    methods = {
        "lead": lambda a: lead_line(a),
        "previous": lambda a: weighted_key_sentence(a, tokens, lambda t: weights([t]).get(t, 0.0)),
    }
    results = {}
    for name, method in methods.items():
        checks = [check_line(method(a), article_lead(a, first)) for a in articles]
        results[name] = tally(checks)
        if args.verbose and name == "lead":
            for c in checks:
                if not c.passed:
                    print(f"FAIL {c.line}", file=sys.stderr)
    digest = None if args.bench else _digest_check(engine)
    if args.json:
        print(json.dumps({**results, **({"digest": digest} if digest else {})}, ensure_ascii=False))
        return EXIT_OK
    print(f"{'method':<10}{'lines':>7}{'all':>7}" + "".join(f"{n:>8}" for n in CHECKS))
    for name, t in results.items():
        print(f"{name:<10}{t['lines']:>7}{t['passed']:>7}" + "".join(f"{t[n]:>8}" for n in CHECKS))
    if digest:
        print(
            f"digest: {digest['issues']} issues, heading with newspaper and month {digest['heading']}/"
            f"{digest['issues']}, lines repeating their headline {digest['repeats']}/{digest['articles']}, "
            f"articles taller than a phone screen {digest['too_tall']}/{digest['articles']} "
            f"(tallest {digest['tallest']} of {digest['screen_rows']} rows)"
        )
        for problem in digest["problems"]:
            print(f"  {problem}")
    return EXIT_OK


def _digest_check(engine: SearchEngine) -> dict[str, Any]:
    """The digest-level checks on each issue's broadcast as subscribers receive it."""
    import html
    import re

    from bot.publishing import broadcast_text, issue_title, month_label
    from index.summary_check import SCREEN_ROWS, check_digest

    out: dict[str, Any] = {"issues": 0, "heading": 0, "articles": 0, "repeats": 0, "too_tall": 0, "tallest": 0}
    problems: list[str] = []
    for issue in engine.issues:
        lines = engine.summary(issue)
        text = html.unescape(re.sub(r"<[^>]+>", "", broadcast_text(issue, lines)))
        blocks = [(a.title, line) for a, line in lines]
        check = check_digest(text.split("\n", 1)[0], issue.newspaper or issue.street, month_label(issue.month), blocks)
        out["issues"] += 1
        out["heading"] += check.heading
        out["articles"] += check.articles
        out["repeats"] += len(check.repeats)
        out["too_tall"] += len(check.too_tall)
        out["tallest"] = max(out["tallest"], check.tallest)
        if not check.heading:
            problems.append(f"{issue.id}: heading “{text.split(chr(10), 1)[0]}” lacks “{issue_title(issue)}”")
        problems += [f"{issue.id} [{n}]: the line repeats the headline" for n in check.repeats]
        problems += [f"{issue.id} [{n}]: taller than a phone screen" for n in check.too_tall]
    out["screen_rows"] = SCREEN_ROWS
    out["problems"] = problems
    return out


def cmd_eval(settings: Settings, args: argparse.Namespace) -> int:
    """Score the engine on a question file (YAML titles or JSONL ids)."""
    from index.evaluate import evaluate_ids, evaluate_titles, read_questions

    try:
        questions = read_questions(Path(args.file))
    except (OSError, ValueError) as exc:
        print(f"cannot read {args.file}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    engine, report = _engine(settings)
    progress = Progress()
    if questions.kind == "titles":
        metrics = evaluate_titles(engine, questions)
    else:
        metrics = evaluate_ids(engine, questions, lambda d, t: progress("questions", d, t))
    if args.baseline:
        if questions.kind != "ids":
            print("--baseline applies to JSONL question files (gold article ids)", file=sys.stderr)
            return EXIT_USAGE
        from index.evaluate import baseline_rankings, ranking_metrics

        reference = ranking_metrics(
            baseline_rankings(list(engine.index.articles()), questions), [p.gold[0] for p in questions.positives]
        )
        metrics = {"newsbot": metrics, "baseline (jieba + rank-bm25)": reference}
    if args.json:
        print(json.dumps(metrics, ensure_ascii=False))
    elif questions.kind == "ids":
        _print_ranking_table(metrics)
    else:
        _print_metrics(metrics)
    return _skipped_exit(report)


def _print_ranking_table(metrics: dict[str, Any]) -> None:
    """JSONL figures: the answer path, the plain BM25 ranking (and the baseline) side by side."""
    answer = metrics.get("newsbot", metrics)
    columns = {
        "answer path (no-answer check on)": answer,
        "plain BM25 (ours, words only)": answer["plain_bm25"],
        "answer path, answer-aware": answer["answer_aware"],
        "plain BM25, answer-aware": answer["plain_bm25_answer_aware"],
    }
    baseline = metrics.get("baseline (jieba + rank-bm25)")
    if baseline is not None:
        columns["baseline (jieba + rank-bm25)"] = baseline
    print(f"{'metric':<12}" + "".join(f"{n:>36}" for n in columns))
    for key in ("recall@1", "recall@5", "recall@10", "mrr@10"):
        print(f"{key:<12}" + "".join(f"{c[key]:>36.3f}" for c in columns.values()))
    if baseline is not None:
        for key in ("recall@10", "mrr@10"):
            print(f"answer path / baseline {key}: {answer[key] / baseline[key]:.3f}x" if baseline[key] else "")
    check = answer["no_answer_check"]
    print(f"questions answered with nothing (all have an answer): {check['positives_turned_away']}")


def _print_metrics(metrics: dict[str, Any]) -> None:
    for key, value in metrics.items():
        if key == "kinds":
            print("per kind:")
            for kind, figures in value.items():
                name, share = figures["target"]
                print(f"  {kind:<10} {figures['questions']:>3} questions  {name}: {share:.3f}")
        elif key == "no_answer_check":
            precision, recall = value["precision"], value["recall"]
            print(
                f"no-answer check: said nothing for {value['nothing_found']} questions, "
                f"{value['of_them_negatives']} of them negatives (precision "
                f"{'–' if precision is None else f'{precision:.3f}'}, recall "
                f"{'–' if recall is None else f'{recall:.3f}'} of {value['negatives']} negatives)"
            )
        elif isinstance(value, float):
            print(f"{key:<20} {value:.3f}")
        elif isinstance(value, list):
            if value:
                print(f"{key:<20} " + " | ".join(value))
        elif value is not None:
            print(f"{key:<20} {value}")


def cmd_publish(settings: Settings, args: argparse.Namespace) -> int:
    """Add a new issue (.txt or .pdf) to the corpus and the index (no rebuild), and queue its broadcast."""
    from bot.publish_cli import run

    return run(settings, args, lambda s: _engine(s)[0])


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    """Start the Telegram bot (or the terminal chat when no token is set)."""
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        print(f"{TOKEN_ENV} is not set: starting the terminal chat instead.", file=sys.stderr)
        return cmd_chat(settings, args)
    from bot.app import run_bot
    from bot.profiling import sampler_from_environment

    mode = f"webhook {args.webhook}" if args.webhook else "long polling"
    print(f"starting the Telegram bot ({mode}) on {settings.corpus_dir}; Ctrl-C stops it", file=sys.stderr)
    sampler = sampler_from_environment()
    try:
        if args.port is not None or args.listen is not None:
            tg = settings.telegram
            telegram = dataclasses.replace(
                tg,
                webhook_port=tg.webhook_port if args.port is None else args.port,
                webhook_listen=tg.webhook_listen if args.listen is None else args.listen,
            )
            settings = dataclasses.replace(settings, telegram=telegram)
        return run_bot(settings, token, webhook_url=args.webhook)
    finally:
        if sampler is not None:
            sampler.stop()


def cmd_chat(settings: Settings, args: argparse.Namespace) -> int:
    """Talk to the bot in the terminal, on the configured corpus."""
    from bot.terminal import run_terminal_chat

    return run_terminal_chat(settings)


# --- argument parsing -----------------------------------------------------------------


def _common(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--config", help="configuration file (default ./config.yaml or $NEWSBOT_CONFIG)")
    parser.add_argument("--corpus", help="corpus directory or archive file (overrides the configuration)")
    parser.add_argument("--index", help="index directory (overrides the configuration)")
    parser.add_argument("-v", "--verbose", action="store_true", help="log progress and decisions")


def build_parser() -> argparse.ArgumentParser:
    """The argument parser of every subcommand."""
    parser = argparse.ArgumentParser(
        prog="newsbot",
        description="Answer residents' questions about their community newspapers.",
        epilog="Exit codes: 0 done, 1 done but some input was skipped, 2 bad usage or input.",
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("index", help="build the index of the corpus", description=cmd_index.__doc__)
    _common(p)
    p.add_argument("--force", action="store_true", help="rebuild even when the index is up to date")
    p.set_defaults(func=cmd_index)

    p = sub.add_parser("search", help="answer a question", description=cmd_search.__doc__)
    _common(p)
    p.add_argument("question", nargs="?", help="the question; omit to read one a line from standard input")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--limit", type=int, default=3, help="how many results (default 3)")
    p.add_argument("--offset", type=int, default=0, help="skip this many results (paging)")
    p.set_defaults(func=cmd_search)

    p = sub.add_parser("list", help="list the indexed articles", description=cmd_list.__doc__)
    _common(p)
    p.add_argument("--json", action="store_true", help="one JSON object per article")
    p.add_argument("--street", help="only articles of this street")
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("show", help="print one article", description=cmd_show.__doc__)
    _common(p)
    p.add_argument("id", help="article id (see `newsbot list`)")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.set_defaults(func=cmd_show)

    p = sub.add_parser("summary", help="an issue's headlines and key sentences", description=cmd_summary.__doc__)
    _common(p)
    p.add_argument("issue", nargs="?", help="issue id, a unique prefix of it, or its file name")
    p.add_argument("--json", action="store_true", help="print JSON")
    p.add_argument("--check", action="store_true", help="check every line (whole, <=90, opener, date)")
    p.add_argument("--bench", metavar="JSONL", help="with --check: a news archive sample instead of the corpus")
    p.add_argument("--sample", type=int, default=200, help="with --bench: how many articles (default 200)")
    p.set_defaults(func=cmd_summary)

    p = sub.add_parser("eval", help="measure answer quality on a question file", description=cmd_eval.__doc__)
    _common(p)
    p.add_argument("file", help="questions: YAML (gold titles, negatives) or JSONL (gold article ids)")
    p.add_argument("--json", action="store_true", help="print the metrics as JSON")
    p.add_argument(
        "--baseline", action="store_true", help="also score plain jieba + rank-bm25 on the same articles (JSONL)"
    )
    p.set_defaults(func=cmd_eval)

    p = sub.add_parser("publish", help="add a new issue and broadcast it", description=cmd_publish.__doc__)
    _common(p)
    from bot.publish_cli import add_arguments

    add_arguments(p)
    p.set_defaults(func=cmd_publish)

    p = sub.add_parser(
        "run", help="start the Telegram bot (terminal chat without a token)", description=cmd_run.__doc__
    )
    _common(p)
    p.add_argument("--webhook", metavar="URL", help="serve a webhook at this public URL instead of polling")
    p.add_argument("--port", type=int, help="with --webhook: listen on this port (overrides telegram.webhook_port)")
    p.add_argument("--listen", metavar="ADDRESS", help="with --webhook: listen here (telegram.webhook_listen)")
    p.set_defaults(func=cmd_run)

    p = sub.add_parser("chat", help="talk to the bot in the terminal", description=cmd_chat.__doc__)
    _common(p)
    p.set_defaults(func=cmd_chat)

    from bot.state_cli import add_state_parser

    add_state_parser(sub, _common)

    try:
        from bot.bench_cli import add_bench_parser
    except ImportError:
        pass
    else:
        add_bench_parser(sub, _common)
    return parser


def main(argv: Sequence[str] | None = None) -> int:
    """Entry point of the `newsbot` console script."""
    parser = build_parser()
    args = parser.parse_args(argv)
    if not getattr(args, "func", None):
        parser.print_help()
        return EXIT_USAGE
    logging.basicConfig(
        level=logging.INFO if args.verbose else logging.WARNING,
        format="%(asctime)s %(levelname)s %(name)s: %(message)s",
    )
    try:
        settings = load_settings(config_path(args.config), corpus=args.corpus, index=args.index)
    except ConfigError as exc:
        print(f"configuration error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    try:
        code: int = args.func(settings, args)
    except ValueError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except DATABASE_ERRORS as exc:  # e.g. the PostgreSQL server of state.url cannot be reached
        print(f"error: the state database ({redact(settings.state_url)}): {exc}".rstrip(), file=sys.stderr)
        return 1  # as `run` exits when the Bot API cannot be reached: a service it needs is not there
    except KeyboardInterrupt:
        return 130
    return code


if __name__ == "__main__":
    sys.exit(main())
