"""`newsbot publish FILE`: the command-line path of publishing, with the bot's checks.

The street is resolved as the bot resolves it (known streets, newspaper names, partial names),
an unknown street needs --new-street, the newspaper and district come from the street's earlier
issues, the month is read from the issue when not given and validated, a duplicate is refused
naming the issue it repeats, and a second issue for a street and month must be declared a
--correction (replaces the old one, not broadcast) or --another.

Summary lines are reviewed in a file: `--summary-out FILE` writes one line per article (numbered,
under its headline) and publishes nothing; staff edit it in any editor; `--summary FILE` checks it
(same issue text, every article, a line of at most 90 characters each) and broadcasts those lines.
"""

from __future__ import annotations

import argparse
import datetime as dtm
import re
import sys
from collections.abc import Callable
from pathlib import Path

from bot.core import staff_texts
from bot.core.exit_codes import EXIT_OK, EXIT_USAGE
from bot.core.issue_facts import (
    month_problem,
    months_from_issue,
    newspapers_of,
    resolve_street,
    same_street_and_month,
)
from bot.core.settings import Settings
from bot.core.staff_texts import failure_reason, publish_refusal
from bot.core.summary_edits import EMPTY, check_line
from index.article import Article
from index.dedupe import content_key, duplicate_in
from index.publish import PublishError, issue_text, parse_upload, publish_issue, replace_issue
from index.search import SearchEngine
from index.summary import MAX_CHARS, summary_lines
from index.text_decoding import decode_text


def add_arguments(p: argparse.ArgumentParser) -> None:
    """The options of `newsbot publish`."""
    p.add_argument("file", help="the issue: a .txt file or a .pdf with a text layer")
    p.add_argument("--street", required=True, help="the street or its newspaper, e.g. 天山路街道, 天山路, 天山社区晨报")
    p.add_argument("--new-street", action="store_true", help="the street has no issue yet: take --street as given")
    p.add_argument("--month", help="YYYY-MM (default: read from the issue's dates or file name)")
    p.add_argument("--future", action="store_true", help="accept a month more than one month ahead")
    p.add_argument("--district", help="e.g. 长宁区 (default: from the street's earlier issues)")
    p.add_argument("--newspaper", help="e.g. 天山社区晨报 (default: from the street's earlier issues)")
    group = p.add_mutually_exclusive_group()
    group.add_argument(
        "--correction", action="store_true", help="replace the issue already published for this street and month"
    )
    group.add_argument("--another", action="store_true", help="a second issue of the same street and month")
    summary = p.add_mutually_exclusive_group()
    summary.add_argument(
        "--summary-out",
        metavar="FILE",
        help="write the summary lines to FILE for review and stop (nothing is published)",
    )
    summary.add_argument(
        "--summary",
        metavar="FILE",
        help="broadcast the lines of FILE (written by --summary-out, then edited) instead of the generated ones",
    )
    p.add_argument("--yes", action="store_true", help="publish without asking")


def _fail(message: str) -> int:
    print(f"not published: {message}", file=sys.stderr)
    return EXIT_USAGE


def run(
    settings: Settings,
    args: argparse.Namespace,
    engine_of: Callable[[Settings], SearchEngine],
    today: dtm.date | None = None,
) -> int:
    """Check, preview, confirm and publish one issue; the broadcast is queued for the running bot."""
    path = Path(args.file)
    try:
        data = path.read_bytes()
    except OSError as exc:
        return _fail(f"cannot read {path}: {exc.strerror}")
    try:
        text = issue_text(data, path.name)
    except PublishError as exc:
        return _fail(f"{path}: {publish_refusal(exc)}")
    engine = engine_of(settings)
    known = engine.streets()
    found = resolve_street(args.street, known, newspapers_of(engine.issues), allow_new=args.new_street)
    if found.street is None:
        if found.choices:
            return _fail(f"“{args.street}” could be {'、'.join(found.choices)}: say which with --street")
        listed = "、".join(known) or "(none yet)"
        return _fail(f"unknown street “{args.street}”. Known streets: {listed}. If it is new, add --new-street")
    street = found.street
    previous = engine.latest_issue(street)
    district = args.district or (previous.district if previous and previous.street == street else "")
    newspaper = args.newspaper or (previous.newspaper if previous and previous.street == street else "")

    month = args.month or ""
    if not month:
        candidates = months_from_issue(text, path.name)
        if not candidates:
            return _fail("the issue names no month (no dates in its text or file name): give --month YYYY-MM")
        month = candidates[0]
        print(f"month read from the issue: {month}", file=sys.stderr)
    problem = month_problem(month, today or dtm.date.today())
    if problem == "invalid":
        return _fail(f"“{month}” is not a month: use YYYY-MM with a month 01-12, e.g. 2020-06")
    if problem == "future" and not args.future:
        return _fail(f"{month} is far in the future; if that is right, add --future")

    same = duplicate_in(settings.corpus_dir, text)
    if same is not None:
        return _fail(f"this issue is already published as {same} (same text up to spacing and punctuation width)")
    existing = same_street_and_month(engine.issues, street, month)
    if existing is not None and not (args.correction or args.another):
        return _fail(
            f"{street} already has an issue for {month} ({existing.file}). "
            "If this corrects it, add --correction (it replaces that issue and is not broadcast again); "
            "if it is a second issue of that month, add --another"
        )
    if args.correction and existing is None:
        return _fail(f"--correction: {street} has no issue for {month} to correct")
    try:
        issue, articles, text = parse_upload(data, path.name, street, month, district, newspaper)
    except PublishError as exc:
        return _fail(f"{path}: {publish_refusal(exc)}")

    lines = summary_lines(articles)
    if args.summary:
        try:
            edits = read_summary_file(Path(args.summary), lines, text)
        except (OSError, ValueError) as exc:
            return _fail(f"{args.summary}: {exc}")
        lines = [(article, edits[number]) for number, (article, _) in enumerate(lines, 1)]
    print(
        " ".join(p for p in (newspaper or street, street if newspaper else "", month) if p)
        + staff_texts.cli_articles(len(articles))
    )
    if existing is not None and args.correction:
        print(f"correction of {existing.file}: its articles are replaced; subscribers are not sent it again")
    for article, sentence in lines:
        print(f"■ {article.title}\n  {sentence}")
    if args.summary_out:
        out = Path(args.summary_out)
        try:
            out.write_text(summary_file_text(lines, text, path.name), encoding="utf-8")
        except OSError as exc:
            return _fail(f"cannot write {out}: {exc.strerror}")
        print(f"summary lines written to {out}; nothing published. Edit the lines, then run again with --summary {out}")
        return EXIT_OK
    if not args.yes:
        if not sys.stdin.isatty():
            return _fail("confirm with --yes when not at a terminal")
        answer = input(staff_texts.CLI_CONFIRM).strip().lower()
        if answer not in staff_texts.CLI_YES_WORDS:
            print("cancelled")
            return EXIT_OK
    original = data if path.name.lower().endswith(".pdf") else None

    def waiting(who: str) -> None:
        print(f"waiting for the index lock held by {who} …", file=sys.stderr)

    try:
        if existing is not None and args.correction:
            replace_issue(
                settings.corpus_dir, settings.index_dir, existing.file, issue, articles, text, original, waiting
            )
            print(f"corrected {existing.id} -> {issue.id} ({len(articles)} articles); not broadcast")
            return EXIT_OK
        publish_issue(
            settings.corpus_dir, settings.index_dir, issue, articles, text, original, waiting, bool(args.another)
        )
    except (PublishError, ValueError) as exc:
        return _fail(failure_reason(exc))
    print(f"published {issue.id} ({len(articles)} articles)")
    from bot.core.publishing import queue_broadcast_from_cli

    queued = queue_broadcast_from_cli(settings, issue.id, [sentence for _, sentence in lines])
    if queued is not None:
        print(f"broadcast queued for {queued} subscribers (sent by the running bot)")
    return EXIT_OK


# --- the summary file staff review ------------------------------------------------------

_HEADER_RE = re.compile(r"^\[(\d{1,3})\]\s*(.*)$")
_KEY_RE = re.compile(r"^#\s*issue-key:\s*(\S+)\s*$")


def summary_file_text(lines: list[tuple[Article, str]], issue_text_: str, file_name: str) -> str:
    """The review file: a few instructions, the issue's key, then each article's number, headline and line."""
    out = [
        *staff_texts.summary_file_instructions(file_name),
        f"# issue-key: {content_key(issue_text_)}",
    ]
    for number, (article, sentence) in enumerate(lines, 1):
        out += ["", f"[{number}] {article.title}", sentence]
    return "\n".join(out) + "\n"


def read_summary_file(path: Path, lines: list[tuple[Article, str]], issue_text_: str) -> dict[int, str]:
    """Article number -> reviewed line; ValueError naming every problem (nothing is published then)."""
    text = decode_text(path.read_bytes())
    problems: list[str] = []
    found: dict[int, list[str]] = {}
    key: str | None = None
    current: int | None = None
    for row, raw in enumerate(text.splitlines(), 1):
        stripped = raw.strip()
        if stripped.startswith("#"):
            match = _KEY_RE.match(stripped)
            key = match.group(1) if match else key
            continue
        header = _HEADER_RE.match(stripped)
        if header:
            current = int(header.group(1))
            if not 1 <= current <= len(lines):
                problems.append(f"line {row}: there is no article [{current}] (the issue has {len(lines)})")
                current = None
            elif current in found:
                problems.append(f"line {row}: article [{current}] appears twice")
                current = None
            elif " ".join(header.group(2).split()) != " ".join(lines[current - 1][0].title.split()):
                problems.append(f"line {row}: [{current}] is “{lines[current - 1][0].title}” in this issue")
                current = None
            else:
                found[current] = []
        elif stripped and current is not None:
            found[current].append(stripped)
        elif stripped:
            problems.append(f"line {row}: text outside an article (“{stripped[:20]}”)")
    if key is not None and key != content_key(issue_text_):
        problems.insert(0, "it was written for another version of this issue (the text changed): write it again")
    edits: dict[int, str] = {}
    for number in range(1, len(lines) + 1):
        if number not in found:
            problems.append(f"article [{number}] {lines[number - 1][0].title} is missing")
            continue
        line, problem = check_line(" ".join(found[number]))
        if problem == EMPTY:
            problems.append(f"article [{number}] has an empty line")
        elif problem is not None:
            problems.append(f"article [{number}]: {len(line)} characters, at most {MAX_CHARS}")
        edits[number] = line
    if problems:
        raise ValueError("; ".join(problems))
    return edits
