"""Fifty residents asking twenty questions each at the same time, through the fake Bot API server.

The bot runs as in production, `newsbot run` in its own process, polling the fake server that
this test serves (with the residents): the server's work stays out of the bot's process, as
Telegram's would. Every question must be answered exactly once (none lost, none doubled, none
refused). How long replies take under load, against one resident alone, and how long the first
answer after start-up takes, are measured and logged (and recorded as test properties) but not
asserted: timings depend on the machine. Run with `-o log_cli=true --log-cli-level=INFO` to see them.

By default the bot answers from the bundled corpus. To load-test a big index (the benchmark's
68k articles), point NEWSBOT_LOAD_INDEX at its directory and NEWSBOT_LOAD_CORPUS at its corpus;
the questions then come from the benchmark's queries.txt.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import random
import signal
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path

import numpy as np
import pytest
from bots import TOKEN
from configs import write_settings
from corpora import BENCH, CORPUS, ROOT
from fake_bot_api import FakeBotApi

from bot.core import replies
from bot.core.settings import TOKEN_ENV

log = logging.getLogger(__name__)

RESIDENTS = 50
QUESTIONS_EACH = 20
# A resident asks at most once a second: the rate limiter's steady pace, faster than anyone types.
PACE = 1.0
ALONE_PACE = 0.2
LOCAL_QUESTIONS = [
    "垃圾分类",
    "芷江西路垃圾分类检查去了哪些小区？",
    "社区义诊",
    "外滩街道工会开代表大会",
    "花木街道主题教育",
    "天山路街道四史学习",
    "志愿者服务活动",
    "老年人助餐",
    "积水点改造",
    "防疫物资",
    "党建引领",
    "居民自治",
    "地铁几点停运",
    "小区加装电梯",
    "社区文化活动",
    "疫情防控",
    "为老服务",
    "怎么办理护照",
    "业委会换届",
    "美丽家园",
]


def load_target(default_index: Path) -> tuple[Path, Path, list[str]]:
    """(index, corpus, questions) to load-test."""
    index = os.environ.get("NEWSBOT_LOAD_INDEX")
    if not index:
        return default_index, CORPUS, LOCAL_QUESTIONS
    questions = BENCH / "queries.txt".read_text(encoding="utf-8").splitlines() if BENCH / "queries.txt".exists() else []
    return (
        Path(index),
        Path(os.environ.get("NEWSBOT_LOAD_CORPUS", CORPUS)),
        [q for q in questions if q] or LOCAL_QUESTIONS,
    )


def reply_seconds(api: FakeBotApi, pushed: dict[int, list[float]]) -> dict[int, list[float]]:
    """Per chat, each question's time from being sent to the bot's answer reaching the server."""
    answered: dict[int, list[float]] = {chat: [] for chat in pushed}
    for call in api.calls("sendMessage"):
        chat = int(call.params["chat_id"])
        if chat in answered and call.ok:
            answered[chat].append(call.time)
    return {chat: [a - p for a, p in zip(sorted(answered[chat]), pushed[chat], strict=False)] for chat in pushed}


async def ask_paced(
    api: FakeBotApi, chats: list[int], ask: Callable[[int, int], str], pace: float, stagger: float
) -> dict[int, list[float]]:
    """Each chat sends QUESTIONS_EACH questions, `pace` seconds apart; returns when each was sent."""
    pushed: dict[int, list[float]] = {chat: [] for chat in chats}
    rng = random.Random(5)

    async def resident(chat: int) -> None:
        start = time.monotonic() + rng.uniform(0.0, stagger)
        for number in range(QUESTIONS_EACH):
            await asyncio.sleep(max(0.0, start + number * pace - time.monotonic()))
            pushed[chat].append(time.time())
            api.message_update(chat, ask(chat, number))

    await asyncio.gather(*(resident(chat) for chat in chats))
    expected = len(chats) * QUESTIONS_EACH
    await api.wait_for_async(
        lambda: sum(1 for c in api.calls("sendMessage") if int(c.params["chat_id"]) in pushed) >= expected,
        timeout=60,
        message=f"{expected} replies",
    )
    return pushed


def check_every_question_answered_once(api: FakeBotApi, chats: list[int]) -> None:
    for chat in chats:
        texts = api.sent_texts(chat)
        assert len(texts) == QUESTIONS_EACH, f"chat {chat}: {len(texts)} replies to {QUESTIONS_EACH} questions"
        for text in texts:
            assert replies.ERROR not in text and replies.SLOW_DOWN not in text, text
    assert not api.pending_updates()


@contextlib.contextmanager
def bot_process(config: Path, index: Path, output: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`newsbot run` on the configuration, stopped with Ctrl-C (SIGINT) at the end."""
    with output.open("wb") as log_file:
        process = subprocess.Popen(
            [sys.executable, "-m", "bot.cli", "run", "--config", str(config), "--index", str(index)],
            cwd=ROOT,
            env={**os.environ, TOKEN_ENV: TOKEN},
            stdout=log_file,
            stderr=subprocess.STDOUT,
        )
        try:
            yield process
        finally:
            process.send_signal(signal.SIGINT)
            try:
                process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def cpu_seconds(pid: int) -> float:
    """CPU time (user + system) a process has used so far (0 where /proc is missing)."""
    try:
        fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return 0.0
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


async def first_answer(api: FakeBotApi, process: subprocess.Popen[bytes], started: float, question: str) -> float:
    """Seconds from starting the bot to its answer to a first question."""
    await api.wait_for_async(lambda: api.calls("getUpdates") or process.poll() is not None, timeout=120)
    assert process.poll() is None, "the bot stopped at start-up"
    chat = 20_000
    api.message_update(chat, question)
    await api.wait_for_messages_async(chat, 1, timeout=30)
    return api.calls("sendMessage")[-1].time - started


@pytest.mark.slow
async def test_fifty_residents_are_all_answered(
    tmp_path: Path,
    api: FakeBotApi,
    corpus_index: Path,
    record_property: Callable[[str, object], None],
) -> None:
    index, corpus, questions = load_target(corpus_index)
    # The limiter is not under test: its burst lets the lone resident ask faster than once a second.
    write_settings(tmp_path, api, index, corpus, burst=QUESTIONS_EACH)

    def ask(chat: int, number: int) -> str:
        return questions[(chat * QUESTIONS_EACH + number) % len(questions)]

    started = time.time()
    with bot_process(tmp_path / "config.yaml", index, tmp_path / "bot.log") as process:
        start_up = await first_answer(api, process, started, LOCAL_QUESTIONS[0])
        alone_chat = 10_000
        alone = reply_seconds(api, await ask_paced(api, [alone_chat], ask, ALONE_PACE, 0.0))[alone_chat]
        chats = list(range(1, RESIDENTS + 1))
        cpu_before, wall_before = cpu_seconds(process.pid), time.monotonic()
        loaded = reply_seconds(api, await ask_paced(api, chats, ask, PACE, PACE))
        bot_cpu = cpu_seconds(process.pid) - cpu_before
        busy = bot_cpu / (time.monotonic() - wall_before)
        assert process.poll() is None, (tmp_path / "bot.log").read_text(encoding="utf-8")[-3000:]

    check_every_question_answered_once(api, [alone_chat, *chats])
    under_load = [seconds for chat in chats for seconds in loaded[chat]]
    assert len(under_load) == RESIDENTS * QUESTIONS_EACH
    single = float(np.median(alone))
    p50, p95, p99 = (float(v) for v in np.percentile(under_load, [50, 95, 99]))
    figures = {
        "first_answer_after_start_s": start_up,
        "alone_p50_ms": single * 1000,
        "alone_p95_ms": float(np.percentile(alone, 95)) * 1000,
        "load_p50_ms": p50 * 1000,
        "load_p95_ms": p95 * 1000,
        "load_p99_ms": p99 * 1000,
        "p95_over_alone": p95 / single,
        "bot_cpu_ms_per_question": bot_cpu / len(under_load) * 1000,
        "bot_cpu_busy_share": busy,
    }
    for name, value in figures.items():
        record_property(name, value)
    log.info("load test on %s: %s", index, ", ".join(f"{k}={v:.2f}" for k, v in figures.items()))
