"""`newsbot bench --throughput`: how many questions a second one `newsbot run` process sustains.

The bot runs as in production, `newsbot run` in its own process, long-polling a fake Bot API
server (the one the tests use, `tests/fake_bot_api.py`: real HTTP on 127.0.0.1, so this needs a
source checkout) that plays the residents. First one resident asks alone, one question after
the answer to the last: that reply time is the yardstick. Then ever more residents each ask
once a second (the rate limiter's steady pace); a rate is sustained when every question is
answered and the 95th percentile reply time stays under 3x the lone resident's. The bot runs
under the sampling profiler (`bench.profiling`), so the report says where its CPU went.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import yaml

from bench.profiling import PROFILE_ENV
from bot.core.settings import TOKEN_ENV

TOKEN = "123456:THROUGHPUT-bench-token-0123456789abc"
ALONE_QUESTIONS = 20
# Seconds between one resident's questions: the rate limiter's steady pace (1 a second).
RESIDENT_PACE = 1.05
# Sustained: p95 reply time under this many times the lone resident's median.
SUSTAINED_FACTOR = 3.0
PROFILE_LINES = 12

Figures = dict[str, Any]


class ThroughputError(RuntimeError):
    """The measurement could not be made (the message says why)."""


@dataclass
class ThroughputOptions:
    """What to measure."""

    config: Path
    index_dir: Path | None
    corpus_dir: Path | None
    questions: list[str]
    rates: list[int] = field(default_factory=lambda: [5, 10, 20, 40, 80])
    step_seconds: float = 10.0


def _fake_api_class() -> Any:
    tests = Path(__file__).resolve().parents[1] / "tests"
    if not (tests / "fake_bot_api.py").exists():
        raise ThroughputError(f"the fake Bot API server is not here ({tests}/fake_bot_api.py): run from a checkout")
    sys.path.insert(0, str(tests))
    from fake_bot_api import FakeBotApi

    return FakeBotApi


def _write_config(options: ThroughputOptions, api: Any, directory: Path) -> Path:
    config = yaml.safe_load(options.config.read_text(encoding="utf-8")) if options.config.exists() else {}
    config = dict(config or {})
    base = options.config.parent
    for key in ("corpus_dir", "data_dir"):
        if key in config and not Path(config[key]).is_absolute():
            config[key] = str(base / config[key])
    config["data_dir"] = str(directory / "data")
    if options.corpus_dir is not None:
        config["corpus_dir"] = str(options.corpus_dir)
    telegram = dict(config.get("telegram") or {})
    telegram.update(base_url=api.base_url, base_file_url=api.base_file_url, poll_timeout=1)
    config["telegram"] = telegram
    path = directory / "config.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


@contextlib.contextmanager
def _bot(config: Path, index_dir: Path | None, profile: Path, log_path: Path) -> Iterator[subprocess.Popen[bytes]]:
    command = [sys.executable, "-m", "bot.cli", "run", "--config", str(config)]
    if index_dir is not None:
        command += ["--index", str(index_dir)]
    env = {**os.environ, TOKEN_ENV: TOKEN, PROFILE_ENV: str(profile)}
    with log_path.open("wb") as log_file:
        process = subprocess.Popen(command, env=env, stdout=log_file, stderr=subprocess.STDOUT)
        try:
            yield process
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def _cpu_seconds(pid: int) -> float:
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _answers(api: Any, chats: set[int]) -> dict[int, list[float]]:
    found: dict[int, list[float]] = {chat: [] for chat in chats}
    for call in api.calls("sendMessage"):
        chat = int(call.params["chat_id"])
        if chat in found and call.ok:
            found[chat].append(call.time)
    return {chat: sorted(times) for chat, times in found.items()}


async def _alone(api: Any, questions: list[str]) -> list[float]:
    chat = 9_000_000
    seconds: list[float] = []
    seconds_sent = 0.0
    for number in range(ALONE_QUESTIONS):
        # At the resident's steady pace (once a second): faster, the rate limiter would queue.
        await asyncio.sleep(max(0.0, RESIDENT_PACE - (time.time() - seconds_sent)) if number else 0.0)
        before = len(api.sent_messages(chat))
        sent = seconds_sent = time.time()
        api.message_update(chat, questions[number % len(questions)])
        await api.wait_for_async(lambda before=before: len(api.sent_messages(chat)) > before, timeout=60)
        seconds.append(_answers(api, {chat})[chat][-1] - sent)
    return seconds


async def _step(
    api: Any, process: subprocess.Popen[bytes], rate: int, first_chat: int, options: ThroughputOptions
) -> Figures:
    chats = list(range(first_chat, first_chat + rate))
    each = max(1, int(options.step_seconds))
    pushed: dict[int, list[float]] = {chat: [] for chat in chats}
    start = time.monotonic() + 0.5
    cpu_before, wall_before = _cpu_seconds(process.pid), time.monotonic()

    async def resident(offset: int, chat: int) -> None:
        # Residents spread evenly over the second, each asking once a second.
        begin = start + offset / rate
        for number in range(each):
            await asyncio.sleep(max(0.0, begin + number - time.monotonic()))
            pushed[chat].append(time.time())
            question = options.questions[(chat * each + number) % len(options.questions)]
            api.message_update(chat, question)

    await asyncio.gather(*(resident(offset, chat) for offset, chat in enumerate(chats)))
    expected = rate * each
    chat_set = set(chats)
    # A bot that cannot keep up falls ever further behind: give it a bounded while to catch up.
    with contextlib.suppress(Exception):
        await api.wait_for_async(
            lambda: sum(len(v) for v in _answers(api, chat_set).values()) >= expected,
            timeout=max(30.0, options.step_seconds * 3),
        )
    wall = time.monotonic() - wall_before
    cpu = _cpu_seconds(process.pid) - cpu_before
    answered = _answers(api, chat_set)
    latencies = [a - p for chat in chats for a, p in zip(answered[chat], pushed[chat], strict=False)]
    count = sum(len(v) for v in answered.values())
    p50, p95, p99 = (float(v) * 1000 for v in np.percentile(latencies, [50, 95, 99])) if latencies else (0, 0, 0)
    return {
        "rate": rate,
        "questions": expected,
        "answered": count,
        "p50_ms": p50,
        "p95_ms": p95,
        "p99_ms": p99,
        "cpu_busy": cpu / wall if wall else 0.0,
        "cpu_ms_per_question": cpu / max(count, 1) * 1000,
    }


async def _measure(api: Any, process: subprocess.Popen[bytes], options: ThroughputOptions) -> Figures:
    started = time.time()
    await api.wait_for_async(lambda: api.calls("getUpdates") or process.poll() is not None, timeout=300)
    if process.poll() is not None:
        raise ThroughputError("the bot stopped at start-up")
    figures: Figures = {"start_seconds": time.time() - started}
    alone = await _alone(api, options.questions)
    single = float(np.median(alone)) * 1000
    figures["alone_p50_ms"] = single
    steps = []
    first_chat = 1
    for rate in options.rates:
        step = await _step(api, process, rate, first_chat, options)
        first_chat += rate
        step["sustained"] = step["answered"] == step["questions"] and step["p95_ms"] <= SUSTAINED_FACTOR * single
        steps.append(step)
        if process.poll() is not None or not step["sustained"]:
            break
    figures["steps"] = steps
    sustained = [s["rate"] for s in steps if s["sustained"]]
    figures["sustained_rate"] = max(sustained) if sustained else 0
    return figures


def run_throughput(options: ThroughputOptions) -> Figures:
    """Start the fake server and the bot, measure, stop both; the figures as plain data."""
    if not options.questions:
        raise ThroughputError("no questions to ask")
    fake_api = _fake_api_class()
    with (
        tempfile.TemporaryDirectory(prefix="newsbot-throughput-") as scratch,
        fake_api(TOKEN, max_long_poll=1.0) as api,
    ):
        directory = Path(scratch)
        config = _write_config(options, api, directory)
        profile = directory / "profile.json"
        log_path = directory / "bot.log"
        with _bot(config, options.index_dir, profile, log_path) as process:
            try:
                figures = asyncio.run(_measure(api, process, options))
            except ThroughputError as exc:
                raise ThroughputError(
                    f"{exc}\n{log_path.read_text(encoding='utf-8', errors='replace')[-2000:]}"
                ) from exc
        figures["profile"] = json.loads(profile.read_text(encoding="utf-8")) if profile.exists() else None
    return figures


def format_throughput(figures: Figures) -> str:
    """The figures as markdown."""
    single = figures["alone_p50_ms"]
    lines = [
        "### One `newsbot run` process through the fake Bot API",
        "",
        f"Start-up to first poll {figures['start_seconds']:.1f} s; a lone resident's reply takes "
        f"{single:.1f} ms (median); sustained means every question answered and p95 <= "
        f"{SUSTAINED_FACTOR:g}x that ({SUSTAINED_FACTOR * single:.0f} ms).",
        "",
        "| questions/s | answered | p50 ms | p95 ms | p99 ms | bot CPU busy | CPU ms/question | sustained |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for s in figures["steps"]:
        lines.append(
            f"| {s['rate']} | {s['answered']}/{s['questions']} | {s['p50_ms']:.1f} | {s['p95_ms']:.1f} | "
            f"{s['p99_ms']:.1f} | {s['cpu_busy']:.0%} | {s['cpu_ms_per_question']:.2f} | "
            f"{'yes' if s['sustained'] else '**no**'} |"
        )
    lines += ["", f"Sustained: **{figures['sustained_rate']} questions a second**."]
    profile = figures.get("profile")
    if profile:
        lines += ["", f"Where the bot's CPU went ({profile['cpu_ticks']} clock ticks sampled):", ""]
        lines += ["| spent in (own) | share | spent under (inclusive) | share |", "|---|---|---|---|"]
        own, inclusive = profile["own"][:PROFILE_LINES], _interesting(profile["inclusive"])[:PROFILE_LINES]
        for row in range(max(len(own), len(inclusive))):
            left = own[row] if row < len(own) else ["", 0.0]
            right = inclusive[row] if row < len(inclusive) else ["", 0.0]
            lines.append(f"| `{left[0]}` | {left[1]:.0%} | `{right[0]}` | {right[1]:.0%} |")
    return "\n".join(lines)


def _interesting(rows: list[list[Any]]) -> list[list[Any]]:
    """Inclusive rows without the frames every sample passes through (the loop, the runner)."""
    return [row for row in rows if row[1] < 0.95]
