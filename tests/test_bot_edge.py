"""The Telegram edge keeps going whatever arrives: an update python-telegram-bot cannot parse is
logged once and skipped, and forged button data never shows another resident's results."""

from __future__ import annotations

import logging

import pytest
from bots import RunningBot, buttons

from bot.core import callbacks, replies


async def test_an_unparsable_update_is_logged_once_and_skipped(
    bot: RunningBot, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.WARNING, logger="bot.edge.updates")
    # A poll without its required fields: PTB's Poll.de_json cannot build it.
    bot.api.push_update({"poll": {"id": "77", "question": "x" * 5000}})
    # Alone in its batch, it is the last update fetched: the offset must still move past it.
    await bot.api.wait_for_async(lambda: [r for r in caplog.records if "could not be read" in r.getMessage()])
    reply = await bot.ask(480, "垃圾分类")
    assert "垃圾" in reply["text"]
    await bot.api.wait_for_async(lambda: not bot.api.pending_updates(), timeout=30)
    # ... and it was logged once, in one bounded line, with no traceback.
    skipped = [r for r in caplog.records if "could not be read" in r.getMessage()]
    assert len(skipped) == 1 and skipped[0].exc_info is None
    assert len(skipped[0].getMessage()) < 1200
    assert not [r for r in caplog.records if r.levelno >= logging.ERROR]
    # Later updates, bad or good, keep flowing.
    bot.api.push_update({"poll": {"id": "78"}})
    reply = await bot.ask(480, "积水点改造")
    assert "积水点" in reply["text"]


async def test_a_forged_more_results_button_shows_nobody_elses_question(bot: RunningBot) -> None:
    mine = await bot.ask(490, "垃圾分类")
    data = buttons(mine)["更多结果 ▶"]
    theirs = await bot.ask(491, "社区")
    their_id = bot.last_message_id(491)
    before = dict(bot.api.message(491, their_id) or {})
    # Resident 491 presses a button carrying 490's query (a forged or copied callback).
    await bot.press(491, their_id, data)
    assert bot.api.calls("answerCallbackQuery")[-1].params.get("text") == replies.EXPIRED
    assert bot.api.message(491, their_id) == before and theirs["text"] == before["text"]
    # The owner's own press still works.
    await bot.press(490, bot.last_message_id(490), data)
    assert bot.api.calls("answerCallbackQuery")[-1].params.get("text") in (None, "")
    # Ids are not sequential: neighbours of one's own id name nothing.
    query_id = callbacks.decode(data)
    assert isinstance(query_id, callbacks.MoreResults)
    for guess in (query_id.query_id - 1, query_id.query_id + 1):
        await bot.press(491, their_id, callbacks.more_results(guess, 3))
        assert bot.api.calls("answerCallbackQuery")[-1].params.get("text") == replies.EXPIRED
