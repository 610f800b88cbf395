"""Webhook mode end to end: `newsbot run --webhook URL` in a subprocess, against the fake Bot API.

The bot process talks to the fake server through `telegram.base_url` in its config file; the
test plays Telegram's side of a webhook, POSTing updates to the bot's listener with (or without)
the secret token the bot registered through setWebhook. Each process is stopped with SIGTERM,
as a service manager would, and must exit 0 with the token nowhere in its log output.
"""

from __future__ import annotations

import json
import logging
import os
import re
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from bots import TOKEN
from configs import write_settings
from fake_bot_api import FakeBotApi

from bot.core.exit_codes import EXIT_FAILED
from bot.edge.app import _check_webhook

log = logging.getLogger(__name__)

SECRET_HEADER = "X-Telegram-Bot-Api-Secret-Token"
QUESTION = "积水点改造"
HEADLINE = "王为人检查天山积水点改造"
START_TIMEOUT = 30.0  # loading jieba and the index; usually about two seconds


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def post(url: str, body: dict[str, Any] | bytes, secret: str | None) -> int:
    """POST an update the way Telegram does; returns the HTTP status."""
    data = body if isinstance(body, bytes) else json.dumps(body, ensure_ascii=False).encode()
    headers = {"Content-Type": "application/json"}
    if secret is not None:
        headers[SECRET_HEADER] = secret
    request = urllib.request.Request(url, data=data, headers=headers, method="POST")
    try:
        with urllib.request.urlopen(request, timeout=5) as response:
            return int(response.status)
    except urllib.error.HTTPError as exc:
        exc.close()
        return int(exc.code)


@dataclass
class BotProcess:
    """`newsbot run --webhook` running in a subprocess, its output going to a file."""

    process: subprocess.Popen[bytes]
    log_path: Path

    def output(self) -> str:
        return self.log_path.read_text(encoding="utf-8", errors="replace")

    def stop(self, sig: int = signal.SIGTERM, timeout: float = 15.0) -> int:
        """Send `sig` and wait for the exit status (killed, and failing, if it hangs)."""
        if self.process.poll() is None:
            self.process.send_signal(sig)
        try:
            return self.process.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=5)
            raise AssertionError(f"the bot did not stop within {timeout}s:\n{self.output()}") from None


@dataclass
class Webhook:
    """Where the bot listens, and how to start bot processes serving it."""

    url: str
    port: int
    config: Path
    index: Path
    directory: Path
    processes: list[BotProcess]

    def start(self, name: str = "bot") -> BotProcess:
        log_path = self.directory / f"{name}.log"
        env = {**os.environ, "TELEGRAM_BOT_TOKEN": TOKEN, "PYTHONUNBUFFERED": "1"}
        env.pop("NEWSBOT_CONFIG", None)
        with log_path.open("wb") as log_file:
            process = subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "bot.cli",
                    "run",
                    "--verbose",  # INFO logs: more lines in which a leaked token would show
                    "--config",
                    str(self.config),
                    "--index",
                    str(self.index),
                    "--webhook",
                    self.url,
                ],
                cwd=self.directory,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=log_file,
                stderr=subprocess.STDOUT,
            )
        running = BotProcess(process, log_path)
        self.processes.append(running)
        return running

    def wait_listening(self, bot: BotProcess, timeout: float = START_TIMEOUT) -> None:
        """Until the webhook server accepts connections (it binds right after setWebhook)."""
        deadline = time.monotonic() + timeout
        while True:
            assert bot.process.poll() is None, f"the bot exited ({bot.process.returncode}):\n{bot.output()}"
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                    return
            except OSError:
                if time.monotonic() > deadline:
                    raise AssertionError(f"nothing listens on port {self.port}:\n{bot.output()}") from None
                time.sleep(0.05)


@pytest.fixture
def webhook(tmp_path: Path, api: FakeBotApi, corpus_index: Path) -> Iterator[Webhook]:
    """A config file aimed at the fake server, with the webhook on 127.0.0.1 and a free port."""
    port = free_port()
    settings = write_settings(tmp_path, api, corpus_index, webhook_listen="127.0.0.1", webhook_port=port)
    hook = Webhook(f"http://127.0.0.1:{port}/newsbot/hook", port, settings.config_path, corpus_index, tmp_path, [])
    yield hook
    for bot in hook.processes:  # a failed test must not leave a bot behind
        if bot.process.poll() is None:
            bot.process.kill()
            bot.process.wait(timeout=10)


def registered_secret(api: FakeBotApi, url: str) -> str:
    """The one setWebhook call: the URL it registered, and its secret token."""
    calls = api.wait_for_calls("setWebhook", 1, timeout=START_TIMEOUT)
    assert len(calls) == 1
    params = calls[0].params
    assert params["url"] == url
    secret = params.get("secret_token")
    assert isinstance(secret, str) and re.fullmatch(r"[A-Za-z0-9_-]{32,256}", secret), secret
    assert "message" in params.get("allowed_updates", [])
    return secret


def assert_clean_log(output: str, *secrets: str) -> None:
    for secret in (TOKEN, TOKEN.partition(":")[2], *secrets):
        assert secret not in output
    assert "Traceback" not in output


def test_webhook_answers_updates_with_the_secret_and_rejects_the_rest(webhook: Webhook, api: FakeBotApi) -> None:
    bot = webhook.start()
    secret = registered_secret(api, webhook.url)
    webhook.wait_listening(bot)

    # Without the secret, or with a wrong one: 403, and nothing reaches the bot.
    forged = api.message_update(43, QUESTION)
    assert post(webhook.url, forged, "wrong-secret-" + secret[:8]) == 403
    assert post(webhook.url, forged, None) == 403
    assert post(webhook.url, forged, "") == 403

    # With it: the question is answered through the Bot API.
    assert post(webhook.url, api.message_update(42, QUESTION), secret) == 200
    reply = api.wait_for_messages(42, 1, timeout=30)[0]
    assert reply["parse_mode"] == "HTML"
    assert f"<b>1. {HEADLINE}</b>" in reply["text"]

    # A body that is not an update is refused, and the bot keeps serving.
    assert post(webhook.url, b"{not json", secret) >= 400
    assert post(webhook.url + "/", api.message_update(44, "/latest 天山路"), secret) == 200
    latest = api.wait_for_messages(44, 1, timeout=30)[0]
    assert "天山路街道" in latest["text"] and HEADLINE in latest["text"]

    assert bot.stop(signal.SIGTERM) == 0
    # Stopped cleanly, the bot has finished every update it took: a reply to the forged one would be here.
    assert api.sent_messages(43) == []
    assert api.calls("getUpdates") == []  # webhook mode never polls
    assert [c.method for c in api.calls() if not c.ok] == []
    output = bot.output()
    assert_clean_log(output, secret)
    assert "Application.stop() complete" in output
    assert api.calls("deleteWebhook") == []  # a restart re-registers; stopping leaves Telegram queueing


def test_a_second_instance_on_the_same_port_leaves_the_first_working(webhook: Webhook, api: FakeBotApi) -> None:
    first = webhook.start("first")
    secret = registered_secret(api, webhook.url)
    webhook.wait_listening(first)

    # Started by mistake while the first runs: it must fail before setWebhook, or Telegram would
    # get its new secret and the first instance would reject every update from then on.
    second = webhook.start("second")
    assert second.process.wait(timeout=START_TIMEOUT) == EXIT_FAILED
    assert f"cannot serve the webhook on 127.0.0.1:{webhook.port}" in second.output()
    assert len(api.calls("setWebhook")) == 1
    assert_clean_log(second.output(), secret)

    assert post(webhook.url, api.message_update(45, QUESTION), secret) == 200
    assert HEADLINE in api.wait_for_messages(45, 1, timeout=30)[0]["text"]
    assert first.stop(signal.SIGINT) == 0
    assert_clean_log(first.output(), secret)


@pytest.mark.parametrize(
    ("url", "request_path"),
    [
        ("https://example.org/newsbot", "/newsbot"),
        ("https://example.org/newsbot/", "/newsbot/"),
        ("https://example.org", "/"),
        ("https://example.org/hook+v1.2", "/hook+v1.2"),
        ("https://example.org/hook(1)/[a]", "/hook(1)/%5Ba%5D"),  # "[" is not allowed in a path: encoded
        ("https://example.org/社区报?x=1", "/%E7%A4%BE%E5%8C%BA%E6%8A%A5"),
        ("https://example.org/news%20bot", "/news%20bot"),
    ],
)
def test_the_webhook_path_is_matched_literally(url: str, request_path: str) -> None:
    # python-telegram-bot routes requests with the pattern rf"/{url_path}/?" (a regular expression).
    pattern = re.compile(rf"/{_check_webhook(url)}/?")
    assert pattern.fullmatch(request_path)
    assert not pattern.fullmatch(request_path.rstrip("/") + "x")
