"""The `newsbot` command line: index, search, list, show, summary, eval, publish, run, chat, state.

The library does the work; this module reads the configuration once, parses arguments,
prints, and turns outcomes into exit codes (`bot.core.exit_codes`). The commands are in
`index_commands` (index, search, list, show), `quality` (summary, eval), `publish`, `bench`,
`state` (state migrate/info) and `terminal` (chat).
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import os
import sys
from collections.abc import Sequence

from bot.cli.index_commands import cmd_index, cmd_list, cmd_search, cmd_show, open_index
from bot.cli.quality import cmd_eval, cmd_summary
from bot.core import exit_codes
from bot.core.exit_codes import EXIT_FAILED, EXIT_INTERRUPTED, EXIT_USAGE
from bot.core.settings import TOKEN_ENV, ConfigError, Settings, config_path, load_settings
from bot.core.state import DATABASE_ERRORS
from bot.core.state_dialect import redact

log = logging.getLogger(__name__)


def cmd_publish(settings: Settings, args: argparse.Namespace) -> int:
    """Add a new issue (.txt or .pdf) to the corpus and the index (no rebuild), and queue its broadcast."""
    from bot.cli.publish import run

    return run(settings, args, lambda s: open_index(s)[0])


def cmd_run(settings: Settings, args: argparse.Namespace) -> int:
    """Start the Telegram bot (or the terminal chat when no token is set)."""
    token = os.environ.get(TOKEN_ENV, "").strip()
    if not token:
        print(f"{TOKEN_ENV} is not set: starting the terminal chat instead.", file=sys.stderr)
        return cmd_chat(settings, args)
    from bench.profiling import sampler_from_environment
    from bot.edge.app import run_bot

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
    from bot.cli.terminal import run_terminal_chat

    return run_terminal_chat(settings)


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
        epilog=exit_codes.HELP,
    )
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")

    p = sub.add_parser("index", help="build the index of the corpus", description=cmd_index.__doc__)
    _common(p)
    p.add_argument(
        "--force",
        action="store_true",
        help="rebuild even when the index looks up to date (an index of these very corpus bytes is checked, kept)",
    )
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
    from bot.cli.publish import add_arguments

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

    from bot.cli.state import add_state_parser

    add_state_parser(sub, _common)

    try:
        from bot.cli.bench import add_bench_parser
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
        return EXIT_FAILED  # as `run` exits when the Bot API cannot be reached: a service it needs is not there
    except KeyboardInterrupt:
        return EXIT_INTERRUPTED
    return code


if __name__ == "__main__":
    sys.exit(main())
