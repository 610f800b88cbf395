"""Fifty residents asking twenty questions each at the same time, through the fake Bot API server.

Every question must be answered exactly once (none lost, none doubled, none refused). How long
replies take under load, against one resident alone, is measured and logged (and recorded as
test properties) but not asserted: timings depend on the machine. `newsbot bench` and the
README quote them; run with `-o log_cli=true --log-cli-level=INFO` to see them.

By default the bot answers from the bundled corpus. To load-test a big index (the benchmark's
68k articles), point NEWSBOT_LOAD_INDEX at its directory and NEWSBOT_LOAD_CORPUS at its corpus;
the questions then come from the benchmark's queries.txt.
"""

from __future__ import annotations

import asyncio
import logging
import os
import random
import time
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from conftest import CORPUS, RunningBot, running_bot, write_settings

from bot import replies
from index.search import SearchEngine
from index.settings import SearchSettings

try:
    from tests.fake_bot_api import FakeBotApi
except ImportError:  # pragma: no cover - depends on pytest's import mode
    from fake_bot_api import FakeBotApi  # type: ignore[no-redef,unused-ignore]

log = logging.getLogger(__name__)

RESIDENTS = 50
QUESTIONS_EACH = 20
# A resident asks at most once a second: the rate limiter's steady pace, faster than anyone types.
PACE = 1.0
ALONE_PACE = 0.2
BENCH_QUERIES = Path(__file__).parents[1].parent / "shared" / "bench" / "queries.txt"
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
    questions = BENCH_QUERIES.read_text(encoding="utf-8").splitlines() if BENCH_QUERIES.exists() else []
    return (
        Path(index),
        Path(os.environ.get("NEWSBOT_LOAD_CORPUS", CORPUS)),
        [q for q in questions if q] or (LOCAL_QUESTIONS),
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


@pytest.fixture
def load_engine(corpus_index: Path) -> tuple[SearchEngine, Path, Path, list[str]]:
    index, corpus, questions = load_target(corpus_index)
    return SearchEngine.open(index, SearchSettings()), index, corpus, questions


async def test_fifty_residents_are_all_answered(
    tmp_path: Path,
    api: FakeBotApi,
    load_engine: tuple[SearchEngine, Path, Path, list[str]],
    record_property: Callable[[str, object], None],
) -> None:
    engine, index, corpus, questions = load_engine
    # The limiter is not under test: its burst lets the lone resident ask faster than once a second.
    settings = write_settings(tmp_path, api, index, corpus, burst=QUESTIONS_EACH)

    def ask(chat: int, number: int) -> str:
        return questions[(chat * QUESTIONS_EACH + number) % len(questions)]

    async with running_bot(settings, api, engine) as bot:
        await warm_up(bot)
        alone_chat = 10_000
        alone = reply_seconds(api, await ask_paced(api, [alone_chat], ask, ALONE_PACE, 0.0))[alone_chat]
        chats = list(range(1, RESIDENTS + 1))
        loaded = reply_seconds(api, await ask_paced(api, chats, ask, PACE, PACE))

    check_every_question_answered_once(api, [alone_chat, *chats])
    under_load = [seconds for chat in chats for seconds in loaded[chat]]
    assert len(under_load) == RESIDENTS * QUESTIONS_EACH
    single = float(np.median(alone))
    p50, p95, p99 = (float(v) for v in np.percentile(under_load, [50, 95, 99]))
    figures = {
        "articles": engine.index.n_docs,
        "alone_p50_ms": single * 1000,
        "alone_p95_ms": float(np.percentile(alone, 95)) * 1000,
        "load_p50_ms": p50 * 1000,
        "load_p95_ms": p95 * 1000,
        "load_p99_ms": p99 * 1000,
        "p95_over_alone": p95 / single,
    }
    for name, value in figures.items():
        record_property(name, value)
    log.info("load test: %s", ", ".join(f"{k}={v:.1f}" for k, v in figures.items()))


async def warm_up(bot: RunningBot) -> None:
    """One question first, so that one-off start-up work is not counted."""
    await bot.ask(20_000, LOCAL_QUESTIONS[0])
