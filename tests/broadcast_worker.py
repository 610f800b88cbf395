"""A bot process that only sends broadcasts, for the crash test (tests/test_broadcast_kill.py).

    python tests/broadcast_worker.py --db STATE.sqlite3 --base-url URL --base-file-url URL ...

It runs the production `BroadcastSender` against the given Bot API until every queued broadcast
is finished and reported, then exits 0. The test SIGKILLs it half way and starts it again.
"""

from __future__ import annotations

import argparse
import asyncio
import logging
import sys

from telegram import Bot
from telegram.request import HTTPXRequest

from bot.core.settings import BroadcastSettings
from bot.core.state import Database
from bot.edge.sender import BroadcastSender


async def run(args: argparse.Namespace) -> None:
    """Send until idle."""
    request = HTTPXRequest(connection_pool_size=args.concurrency + 4)
    bot = Bot(args.token, base_url=args.base_url, base_file_url=args.base_file_url, request=request)
    db = Database(args.db)
    settings = BroadcastSettings(
        messages_per_second=args.rate, per_chat_interval=1.0, max_attempts=args.max_attempts, progress_every=1.0
    )
    async with bot:
        sender = BroadcastSender(
            db, bot, settings, concurrency=args.concurrency, send_timeout=args.timeout, backoff=args.backoff
        )
        await sender.run(until_idle=True)
    db.close()


def main() -> int:
    """Parse arguments and run."""
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", required=True)
    parser.add_argument("--token", required=True)
    parser.add_argument("--base-url", required=True)
    parser.add_argument("--base-file-url", required=True)
    parser.add_argument("--rate", type=float, default=25.0)
    parser.add_argument("--concurrency", type=int, default=4)
    parser.add_argument("--timeout", type=float, default=1.0)
    parser.add_argument("--backoff", type=float, default=0.2)
    parser.add_argument("--max-attempts", type=int, default=5)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING, stream=sys.stderr)
    asyncio.run(run(args))
    return 0


if __name__ == "__main__":
    sys.exit(main())
