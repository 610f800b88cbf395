"""Odd input found in review that used to raise: a subscribe button pressed on a message without a
chat, and numbers in the terminal chat that `str.isdigit` accepts but `int` does not."""

from __future__ import annotations

import logging

import pytest
from bots import RunningBot

from bot.cli.terminal import ChatSession
from bot.core import callbacks, replies
from index.search import SearchEngine

log = logging.getLogger(__name__)

HEADLINE = "王为人检查天山积水点改造"


async def test_subscribe_button_without_a_chat_says_expired(bot: RunningBot, caplog: pytest.LogCaptureFixture) -> None:
    # A press on a message sent through inline mode carries inline_message_id and no chat.
    for number, data in enumerate((callbacks.subscribe("天山路街道"), callbacks.subscribe(None)), start=1):
        bot.api.push_update(
            {
                "callback_query": {
                    "id": f"inline-{number}",
                    "from": bot.api.user(470),
                    "chat_instance": "ci470",
                    "inline_message_id": f"IM{number}",
                    "data": data,
                }
            }
        )
        answers = await bot.api.wait_for_calls_async("answerCallbackQuery", number, timeout=30)
        assert answers[-1].params.get("text") == replies.EXPIRED
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    assert bot.api.calls("sendMessage") == [] and bot.api.calls("editMessageText") == []


@pytest.mark.parametrize("line", ["²", "①", "٣", "9" * 5000])
def test_terminal_numbers_that_int_rejects_do_not_end_the_chat(engine: SearchEngine, line: str) -> None:
    session = ChatSession(engine)
    assert HEADLINE in session.handle("积水点")  # one article listed, numbered 1
    answer = session.handle(line)
    assert answer  # a question, or "pick a listed number"; before, a ValueError ended the chat


def test_terminal_full_width_and_overlong_numbers(engine: SearchEngine) -> None:
    session = ChatSession(engine)
    session.handle("积水点")
    assert session.handle("1" * 40) == "请输入 1–1 之间的数字。"
    assert session.handle("１").startswith(HEADLINE)  # a Chinese input method's full-width digit
