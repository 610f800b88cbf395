"""/reindex through the running bot: residents keep being answered, the new index is swapped in
on success, the old one keeps serving on failure, and a second /reindex reports the first."""

from __future__ import annotations

import asyncio
import shutil
import threading
import time
from pathlib import Path
from typing import Any

import pytest
from bots import running_bot, wait_for_bot_message
from configs import ADMIN, make_settings
from corpora import NEW_ISSUE
from fake_bot_api import FakeBotApi

import index.maintenance
from bot.core.replies import ERROR
from bot.core.services import BotServices
from index.build import build_index

RESIDENTS = list(range(6001, 6021))
QUESTIONS = ["垃圾分类", "加装电梯", "义诊", "娄山关路 老年助餐点", "社区图书馆", "天山路街道最新消息"]
NEW_HEADLINE = "天山路街道开设老年助餐点"


@pytest.fixture
def gate(monkeypatch: pytest.MonkeyPatch) -> threading.Event:
    """Rebuilds wait at the start until the test opens the gate (so questions overlap them)."""
    opened = threading.Event()
    real_build = index.maintenance.build_index

    def gated_build(*args: Any, **kwargs: Any) -> Any:
        assert opened.wait(timeout=120), "the test never opened the gate"
        return real_build(*args, **kwargs)

    monkeypatch.setattr(index.maintenance, "build_index", gated_build)
    return opened


class Residents:
    """Twenty residents asking question after question until told to stop."""

    def __init__(self, api: FakeBotApi) -> None:
        self.api = api
        self.stop = asyncio.Event()
        # (asked at, chat, question, reply), in the order the replies came.
        self.answers: list[tuple[float, int, str, str]] = []
        self.tasks: list[asyncio.Task[None]] = []

    def start(self) -> None:
        self.tasks = [asyncio.create_task(self._ask(chat)) for chat in RESIDENTS]

    async def _ask(self, chat: int) -> None:
        asked = 0
        while not self.stop.is_set():
            question = QUESTIONS[(chat + asked) % len(QUESTIONS)]
            at = time.monotonic()
            self.api.message_update(chat, question)
            asked += 1
            # An unanswered question fails the test here.
            replies = await self.api.wait_for_messages_async(chat, asked, timeout=60)
            self.answers.append((at, chat, question, str(replies[asked - 1]["text"])))
            await asyncio.sleep(0.05)

    async def finish(self) -> None:
        self.stop.set()
        await asyncio.gather(*self.tasks)

    def count(self) -> int:
        return len(self.answers)


async def test_residents_are_answered_during_a_reindex_and_then_from_the_new_index(
    api: FakeBotApi, services: BotServices, gate: threading.Event
) -> None:
    (services.settings.corpus_dir / "005_tianshan_2020_07.txt").write_text(NEW_ISSUE, encoding="utf-8")
    old_engine = services.holder.engine
    async with running_bot(services, api):
        residents = Residents(api)
        residents.start()
        await api.wait_for_async(lambda: residents.count() >= 20, timeout=60)

        reindex_asked = time.monotonic()
        api.message_update(ADMIN, "/reindex", user_id=ADMIN)
        progress_id, _ = await wait_for_bot_message(api, ADMIN, "开始重建索引")
        await api.wait_for_async(lambda: services.holder.status.running, timeout=60)
        answered_before = residents.count()
        await api.wait_for_async(lambda: residents.count() >= answered_before + 60, timeout=60)
        await wait_for_bot_message(api, ADMIN, "正在重建索引（已")  # the progress message is edited

        api.message_update(ADMIN, "/reindex", user_id=ADMIN)
        _, second = await wait_for_bot_message(api, ADMIN, "已经在重建了")
        assert "正在重建索引" in second["text"]
        assert services.holder.status.running and services.holder.engine is old_engine

        gate.set()
        await wait_for_bot_message(api, ADMIN, "索引重建完成", timeout=60)
        swapped = time.monotonic()
        during = residents.count() - answered_before
        answered_after_swap = residents.count()
        await api.wait_for_async(lambda: residents.count() >= answered_after_swap + 40, timeout=60)
        await residents.finish()

        done = api.message(ADMIN, progress_id)
        assert done is not None and "已换用新索引" in done["text"]
        assert services.holder.engine is not old_engine
        assert services.holder.engine.index.n_docs == old_engine.index.n_docs + 3

    assert during >= 60
    assert all(text != ERROR for _, _, _, text in residents.answers)
    # Before the swap the new article cannot be found; after it, residents get it.
    new_answers = [text for at, _, q, text in residents.answers if at > swapped and "娄山关路" in q]
    old_answers = [text for at, _, q, text in residents.answers if at < reindex_asked and "娄山关路" in q]
    assert new_answers and all(NEW_HEADLINE in text for text in new_answers)
    assert old_answers and not any(NEW_HEADLINE in text for text in old_answers)


async def test_failed_reindex_keeps_the_old_index_and_lists_skipped_files(
    api: FakeBotApi, services: BotServices, gate: threading.Event, tmp_path: Path
) -> None:
    corpus = services.settings.corpus_dir
    # A corpus that yields nothing: the good files moved away, two bad ones left behind.
    shutil.move(str(corpus), str(tmp_path / "moved"))
    corpus.mkdir()
    (corpus / "scan.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00" + bytes(range(200)))
    (corpus / "blank.txt").write_bytes(b"")
    old_engine = services.holder.engine
    async with running_bot(services, api):
        residents = Residents(api)
        residents.start()
        api.message_update(ADMIN, "/reindex", user_id=ADMIN)
        progress_id, _ = await wait_for_bot_message(api, ADMIN, "开始重建索引")
        await api.wait_for_async(lambda: residents.count() >= 40, timeout=60)
        gate.set()
        await wait_for_bot_message(api, ADMIN, "索引重建失败", timeout=60)
        failed_at = residents.count()
        await api.wait_for_async(lambda: residents.count() >= failed_at + 40, timeout=60)
        await residents.finish()
        assert services.holder.engine is old_engine
        assert not services.holder.status.running and services.holder.status.error

    text = (api.message(ADMIN, progress_id) or {}).get("text", "")
    assert "仍在使用原来的索引" in text and "语料库里没有一篇读得出的文章（2 个文件被跳过）" in text
    assert "跳过了 2 个文件" in text and "• scan.txt：" in text and "• blank.txt：empty file" in text
    assert all(text != ERROR for _, _, _, text in residents.answers)
    garbage = [text for _, _, question, text in residents.answers[failed_at:] if question == "垃圾分类"]
    assert garbage and all("垃圾" in text for text in garbage)  # still answered from the old index


def test_a_rebuild_waiting_for_the_writer_lock_says_so_in_chinese(tmp_path: Path) -> None:
    from bot.edge.staff_commands import reindex_status_text
    from index.lock import writer_lock
    from index.maintenance import EngineHolder
    from index.search import SearchEngine
    from index.settings import IndexParams, SearchSettings

    settings = make_settings(tmp_path)
    holder = EngineHolder(
        SearchEngine.open(settings.index_dir), settings.corpus_dir, settings.index_dir, IndexParams(), SearchSettings()
    )
    with writer_lock(settings.index_dir, "publishing x.txt"):
        # Another thread waits like another process would.
        holder.start_reindex()
        waited = time.monotonic() + 60
        while holder.status.stage != "waiting" and time.monotonic() < waited:
            time.sleep(0.02)
        text = reindex_status_text(holder.status)
    holder.wait(timeout=600)
    assert "等待另一项写入完成" in text and "publishing x.txt" in text
    assert "waiting" not in text
    assert holder.status.stage == "done"


async def test_a_reindex_of_an_unchanged_corpus_says_the_index_was_kept(api: FakeBotApi, services: BotServices) -> None:
    # The shared test index was built from a corpus elsewhere: built once here, it is this corpus's.
    settings = services.settings
    build_index(settings.corpus_dir, settings.index_dir, settings.index, workers=1)
    old_engine = services.holder.engine
    async with running_bot(services, api):
        api.message_update(ADMIN, "/reindex", user_id=ADMIN)
        progress_id, _ = await wait_for_bot_message(api, ADMIN, "开始重建索引")
        await wait_for_bot_message(api, ADMIN, "索引保持原样", timeout=60)
        assert services.holder.status.kept and not services.holder.status.error
    text = (api.message(ADMIN, progress_id) or {}).get("text", "")
    assert f"{old_engine.index.n_docs:,} 篇文章" in text and "已换用新索引" not in text
    assert services.holder.engine is old_engine, "nothing to swap"
