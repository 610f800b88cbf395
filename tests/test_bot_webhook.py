"""Webhook mode end to end: `newsbot run --webhook URL` in a subprocess, against the fake Bot API.

The bot process talks to the fake server through `telegram.base_url` in its config file; the
test plays Telegram's side of a webhook, POSTing updates to the bot's listener with (or without)
the secret token the bot registered through setWebhook. Each process is stopped with SIGTERM,
as a service manager would, and must exit 0 with the token nowhere in its log output.
"""

from __future__ import annotations

import logging
import re
import signal
from collections.abc import Iterator
from pathlib import Path

import pytest
from bots import TOKEN
from configs import write_settings
from corpora import WATERLOGGING_HEADLINE, WATERLOGGING_QUESTION
from fake_bot_api import FakeBotApi
from webhooks import START_TIMEOUT, Webhook, free_port, post

from bot.core.exit_codes import EXIT_FAILED
from bot.edge.app import _check_webhook

log = logging.getLogger(__name__)

QUESTION, HEADLINE = WATERLOGGING_QUESTION, WATERLOGGING_HEADLINE


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
