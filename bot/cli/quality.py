"""`newsbot summary` and `newsbot eval`: the issue digests and their line checks, and answer quality
on the dev questions (and the bench's labelled questions) beside plain BM25.
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path
from typing import Any

from bot.cli.index_commands import Progress, open_index, skipped_exit
from bot.core.exit_codes import EXIT_OK, EXIT_USAGE
from bot.core.settings import Settings
from index.search import SearchEngine

log = logging.getLogger(__name__)


def cmd_summary(settings: Settings, args: argparse.Namespace) -> int:
    """Print what staff broadcast for an issue: each headline and its key sentence."""
    engine, _ = open_index(settings)
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

    from bot.core.dates import month_label
    from bot.core.publishing import broadcast_text, issue_title
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
    from bench.evaluate import evaluate_ids, evaluate_titles, read_questions

    try:
        questions = read_questions(Path(args.file))
    except (OSError, ValueError) as exc:
        print(f"cannot read {args.file}: {exc}", file=sys.stderr)
        return EXIT_USAGE
    engine, report = open_index(settings)
    progress = Progress()
    if questions.kind == "titles":
        metrics = evaluate_titles(engine, questions)
    else:
        metrics = evaluate_ids(engine, questions, lambda d, t: progress("questions", d, t))
    if args.baseline:
        if questions.kind != "ids":
            print("--baseline applies to JSONL question files (gold article ids)", file=sys.stderr)
            return EXIT_USAGE
        from bench.evaluate import baseline_rankings, ranking_metrics

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
    return skipped_exit(report)


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
