"""Two `newsbot run --webhook` workers on one PostgreSQL state, against the fake Bot API.

Playing the reverse proxy, the test hands each update to one worker or the other (both hold the
same webhook secret). A broadcast to 1,000 subscribers runs while residents ask questions; half
way, the fake server stops answering broadcast messages (so every send in flight has reached
"Telegram", where a real crash almost always finds a sender; see test_broadcast_kill.py), one
worker is SIGKILLed, the server answers again and the worker is started anew. Every active
subscriber must get exactly one copy, the broadcast's messages must keep to one pace across
both workers, and every resident's question must be answered once, by whichever worker got it.
"""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import pytest
import yaml
from bots import TOKEN, add_subscribers, bot_messages, buttons, max_in_one_second
from configs import ADMIN, STAFF
from corpora import CORPUS, NEW_ISSUE, WATERLOGGING_HEADLINE, WATERLOGGING_QUESTION, copy_corpus_and_index
from fake_bot_api import FakeBotApi
from webhooks import Webhook, free_port, post

from bot.core.broadcasts import SENT, UNKNOWN, queue_broadcast
from bot.core.publishing import recipients_for
from bot.core.state import Database
from bot.edge.staff_state import SENDER_CONCURRENCY

QUESTION, HEADLINE = WATERLOGGING_QUESTION, WATERLOGGING_HEADLINE

STREET = "天山路街道"
SUBSCRIBERS = 1000
FIRST_CHAT = 500_000
HOLD_FROM = 500
RATE = 25.0
SECRET = "shared-webhook-secret_0123456789"
RESIDENTS = 900_000
START_TIMEOUT = 60.0
ARTICLE_END = "尽全力确保全区安全度汛"  # the last sentence of HEADLINE's article: in it, never in an answer's snippet


class HoldingApi(FakeBotApi):
    """The fake Bot API noting when each broadcast message arrives; it can stop answering them."""

    def __init__(self, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.arrivals: list[float] = []
        self.held = 0
        self.hold = threading.Event()
        self.release = threading.Event()
        self._lock = threading.Lock()

    def dispatch(self, token: str, method: str, params: dict[str, Any]) -> tuple[int, dict[str, Any]]:
        broadcast = method.lower() == "sendmessage" and FIRST_CHAT <= int(params.get("chat_id", 0)) < RESIDENTS
        hold = False
        if broadcast:
            with self._lock:
                self.arrivals.append(time.time())
                if len(self.arrivals) >= HOLD_FROM and not self.release.is_set():
                    self.hold.set()
                hold = self.hold.is_set() and not self.release.is_set()
                self.held += hold
        if hold:
            self.release.wait(timeout=120)
        return super().dispatch(token, method, params)


def write_config(directory: Path, api: FakeBotApi, state_url: str, name: str, port: int, corpus: Path = CORPUS) -> Path:
    """One worker's config.yaml: the shared state, corpus and secret, a port of its own."""
    config = {
        "corpus_dir": str(corpus),
        "roles": {"admins": [ADMIN], "staff": [STAFF]},
        "data_dir": str(directory / "data"),
        "state": {"url": state_url},
        "telegram": {
            "base_url": api.base_url,
            "base_file_url": api.base_file_url,
            "webhook_listen": "127.0.0.1",
            "webhook_port": port,
            "webhook_secret": SECRET,
            "burst": 50,
        },
        "broadcast": {"messages_per_second": RATE},
    }
    path = directory / f"config-{name}.yaml"
    path.write_text(yaml.safe_dump(config, allow_unicode=True), encoding="utf-8")
    return path


class Workers:
    """Two webhook workers on ports of their own, behind one public URL."""

    def __init__(self, directory: Path, api: FakeBotApi, state_url: str, index: Path, corpus: Path = CORPUS) -> None:
        self.url = "http://127.0.0.1:9/newsbot/hook"  # what setWebhook registers: the proxy's URL
        self.ports = {"a": free_port(), "b": free_port()}
        self.hooks = {
            name: Webhook(
                self.url, port, write_config(directory, api, state_url, name, port, corpus), index, directory, []
            )
            for name, port in self.ports.items()
        }
        self.asked = 0

    def start(self, name: str, run: int = 1) -> None:
        hook = self.hooks[name]
        bot = hook.start(f"{name}{run}")
        hook.wait_listening(bot, timeout=START_TIMEOUT)

    def ask(self, name: str, api: FakeBotApi) -> int:
        """A new resident asks worker `name` a question; returns the resident's chat."""
        return self.ask_text(name, api, QUESTION)

    def ask_text(self, name: str, api: FakeBotApi, text: str) -> int:
        """A new resident sends `text` to worker `name`; returns the resident's chat."""
        chat = RESIDENTS + self.asked
        self.asked += 1
        self.send(name, api.message_update(chat, text))
        return chat

    def send(self, name: str, update: dict[str, Any]) -> None:
        """Hand one update to worker `name`, as the proxy would."""
        status = post(self.worker_url(name), update, SECRET)
        assert status == 200, status

    def worker_url(self, name: str) -> str:
        return f"http://127.0.0.1:{self.ports[name]}/newsbot/hook"

    def current(self, name: str) -> Any:
        return self.hooks[name].processes[-1]

    def kill_all(self) -> None:
        for hook in self.hooks.values():
            for bot in hook.processes:
                if bot.process.poll() is None:
                    bot.process.kill()
                    bot.process.wait(timeout=10)


@pytest.mark.slow
def test_two_workers_share_a_broadcast_survive_a_kill_and_answer_everyone_once(
    tmp_path: Path, postgres_url: str, corpus_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("NEWSBOT_STATE_URL", raising=False)
    monkeypatch.delenv("NEWSBOT_WEBHOOK_SECRET", raising=False)
    db = Database(postgres_url)
    chats = [FIRST_CHAT + i for i in range(SUBSCRIBERS)]
    add_subscribers(db, {c: ("*" if i % 9 == 0 else STREET) for i, c in enumerate(chats)})
    former = [FIRST_CHAT + SUBSCRIBERS + i for i in range(20)]
    add_subscribers(db, dict.fromkeys(former, STREET), active=False)

    with HoldingApi(token=TOKEN) as api:
        workers = Workers(tmp_path, api, postgres_url, corpus_index)
        try:
            _run(api, db, workers)
        finally:
            workers.kill_all()
        calls = api.calls("sendMessage")
        arrivals = list(api.arrivals)
        webhooks = api.calls("setWebhook")

    got = Counter(int(c.params["chat_id"]) for c in calls if c.ok)
    assert {c: got[c] for c in chats if got[c] != 1} == {}, "every subscriber exactly one copy"
    assert not any(got[c] for c in former)
    final = {int(r[0]): str(r[1]) for r in db.query("SELECT chat_id, state FROM deliveries")}
    unknown = {c for c, s in final.items() if s == UNKNOWN}
    # Only the killed worker's sends in flight are uncertain (and they did arrive, once).
    assert 0 < len(unknown) <= SENDER_CONCURRENCY
    assert {s for c, s in final.items() if c not in unknown} == {SENT}
    # One pace for both workers: evenly spaced slots; the receiving end may see a few bunched by
    # scheduling on a loaded machine, as with one worker (test_broadcast_kill.py allows the same).
    assert max_in_one_second(arrivals) <= RATE + 5
    # Every worker registered the same URL and secret, so each accepts what the proxy forwards.
    assert {(c.params["url"], c.params["secret_token"]) for c in webhooks} == {(workers.url, SECRET)}
    assert len(webhooks) == 3
    residents = [RESIDENTS + i for i in range(workers.asked)]
    opened = {RESIDENTS: 2}  # its question's answer, and the article its "1" opened
    assert {c: got[c] for c in residents if got[c] != opened.get(c, 1)} == {}, "every question answered once"
    db.close()


def _run(api: HoldingApi, db: Database, workers: Workers) -> None:
    workers.start("a")
    workers.start("b")
    broadcast_id, queued = queue_broadcast(
        db, "workers-test", STREET, "天山社区晨报 2020年7月", "<b>天山社区晨报</b> 新一期", recipients_for(db, STREET)
    )
    assert queued == SUBSCRIBERS
    asked = [workers.ask(name, api) for name in ("a", "b", "a", "b")]
    for chat in asked:
        assert HEADLINE in api.wait_for_messages(chat, 1, timeout=60)[0]["text"]
    # Telegram delivers an update again (no 200 in time) and the proxy gives it to the other worker.
    twice = RESIDENTS + workers.asked
    workers.asked += 1
    update = api.message_update(twice, QUESTION)
    workers.send("a", update)
    workers.send("b", update)
    assert HEADLINE in api.wait_for_messages(twice, 1, timeout=60)[0]["text"]
    # The number typed next reaches the other worker, which opens the article listed first.
    workers.send("b", api.message_update(asked[0], "1"))
    assert ARTICLE_END in api.wait_for_messages(asked[0], 2, timeout=60)[1]["text"]

    # Both workers share the sending: all their sends in flight are now held by "Telegram".
    api.wait_for(lambda: api.held >= 2 * SENDER_CONCURRENCY, timeout=180, message="the crash window")
    claimants = db.query("SELECT COUNT(DISTINCT claimed_by) FROM deliveries WHERE state = 'sent'")[0][0]
    assert claimants == 2, "both workers sent part of the broadcast"
    victim = workers.current("a")
    victim.process.send_signal(signal.SIGKILL)
    assert victim.process.wait(timeout=10) == -signal.SIGKILL
    api.release.set()

    # While one worker is down, the other answers and keeps sending.
    chat = workers.ask("b", api)
    assert HEADLINE in api.wait_for_messages(chat, 1, timeout=60)[0]["text"]
    workers.start("a", run=2)
    later = [workers.ask(name, api) for name in ("a", "b", "a")]
    for chat in later:
        assert HEADLINE in api.wait_for_messages(chat, 1, timeout=60)[0]["text"]

    def finished() -> bool:
        return str(db.query("SELECT state FROM broadcasts WHERE id = ?", (broadcast_id,))[0][0]) == "done"

    api.wait_for(finished, timeout=300, message="the broadcast to finish")
    for name in ("a", "b"):
        assert workers.current(name).stop(signal.SIGTERM, timeout=30) == 0


def bot_message(api: FakeBotApi, chat: int, contains: str, after: int = 0) -> tuple[int, dict[str, Any]]:
    """The first bot message (id above `after`) in the chat whose current text contains `contains`."""

    def find() -> tuple[int, dict[str, Any]] | None:
        for message_id, message in bot_messages(api, chat):
            if message_id > after and contains in message.get("text", ""):
                return message_id, message
        return None

    found = api.wait_for(find, timeout=60, message=f"a message containing {contains!r}")
    assert found is not None
    return found


@pytest.mark.slow
def test_an_upload_conversation_alternates_between_workers(
    tmp_path: Path, postgres_url: str, corpus_index: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Upload, ✏️ edit, the corrected line and Publish, each step through the other worker; then
    both workers answer from the new index generation."""
    monkeypatch.delenv("NEWSBOT_STATE_URL", raising=False)
    monkeypatch.delenv("NEWSBOT_WEBHOOK_SECRET", raising=False)
    # Not in the workers' working directory, where a folder named "index" would shadow the package.
    shared = tmp_path / "shared"
    shared.mkdir()
    corpus, index = copy_corpus_and_index(shared)
    db = Database(postgres_url)
    subscribers = [3101, 3102]
    add_subscribers(db, dict.fromkeys(subscribers, STREET))
    new_line = "天山路街道议事会商定加装电梯费用按楼层分摊，年内先在三个小区开工。"

    with HoldingApi(token=TOKEN) as api:
        workers = Workers(tmp_path, api, postgres_url, index, corpus)
        try:
            workers.start("a")
            workers.start("b")
            document = api.document_update(
                STAFF, "tianshan-2020-07.txt", NEW_ISSUE.encode(), caption="天山路街道 2020-07", user_id=STAFF
            )
            workers.send("a", document)
            preview_id, preview = bot_message(api, STAFF, "预览")
            edit = next(data for text, data in buttons(preview).items() if text.startswith("✏️ 修改 2."))
            workers.send("b", api.callback_update(STAFF, preview_id, edit, user_id=STAFF))
            asked_id, _ = bot_message(api, STAFF, "请发送第 2 篇")
            workers.send("a", api.message_update(STAFF, new_line, user_id=STAFF))
            bot_message(api, STAFF, "摘要改为", after=asked_id)
            updated = api.message(STAFF, preview_id)
            assert updated is not None and "已修改 1 篇" in updated["text"] and new_line in updated["text"]
            workers.send("b", api.callback_update(STAFF, preview_id, buttons(preview)["✅ 发布"], user_id=STAFF))
            bot_message(api, STAFF, "已发布")
            for chat in subscribers:
                received = api.wait_for_messages(chat, 1, timeout=60)
                assert new_line in received[0]["text"]

            # The publish wrote a new index generation; the other worker switches to it too.
            def answered_from_new_issue(name: str) -> bool:
                chat = workers.ask_text(name, api, "娄山关路老年助餐点")
                reply = api.wait_for_messages(chat, 1, timeout=60)[0]["text"]
                return "开设老年助餐点" in reply

            for name in ("a", "b"):
                api.wait_for(lambda name=name: answered_from_new_issue(name), timeout=60, message=f"worker {name}")
            for name in ("a", "b"):
                assert workers.current(name).stop(signal.SIGTERM, timeout=30) == 0
        finally:
            workers.kill_all()
        calls = api.calls("sendMessage")
    got = Counter(int(c.params["chat_id"]) for c in calls if c.ok)
    assert all(got[chat] == 1 for chat in subscribers), got
    assert len(api.calls("setWebhook")) == 2
    db.close()
