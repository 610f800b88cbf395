"""End to end over HTTP: residents ask, read articles, page results, and use /start /help /latest."""

from __future__ import annotations

import html
import re
from pathlib import Path

from bots import RunningBot, buttons, make_services, running_bot
from configs import write_settings
from corpora import copy_corpus_and_index
from fake_bot_api import FakeBotApi

from bot.core import callbacks
from bot.core.replies import EXAMPLE_QUESTIONS
from index.publish import parse_upload, publish_issue

GARBAGE_QUESTION = "芷江西路垃圾分类检查去了哪些小区？"
GARBAGE_HEADLINE = "市、区人大代表检查芷江西社区垃圾分类情况"


def visible(text: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", text))


async def test_question_round_trip_returns_the_right_headline(bot: RunningBot) -> None:
    reply = await bot.ask(101, GARBAGE_QUESTION)

    assert reply["parse_mode"] == "HTML"
    text = reply["text"]
    assert f"<b>1. {GARBAGE_HEADLINE}</b>" in text
    assert "芷江西路街道 · 社区报 · 2020年6月" in text
    assert "<b>垃圾分类</b>" in text  # matched words in bold inside the snippet
    assert "灵广花园" in text  # the snippet answers the question
    keys = buttons(reply)
    # The question names its street: other streets' garbage-sorting articles are not offered.
    assert "📖 全文 1" in keys and "📖 全文 2" not in keys
    assert all(len(data.encode()) < 64 for data in keys.values())

    rows = bot.services.db.query("SELECT chat_id, question, results FROM query_log")
    found = int(re.search(r"找到 (\d+) 篇", text)[1])  # type: ignore[index]
    assert found == 1
    assert [tuple(r) for r in rows] == [(101, GARBAGE_QUESTION, found)]


async def test_more_results_edits_the_same_message(bot: RunningBot) -> None:
    first = await bot.ask(102, "垃圾分类")
    assert "找到 4 篇相关报道（第 1–3 篇）" in first["text"]
    assert "◀ 上一页" not in buttons(first)
    message_id = bot.last_message_id(102)

    await bot.press(102, message_id, buttons(first)["更多结果 ▶"])
    await bot.api.wait_for_calls_async("editMessageText", 1)
    edited = bot.api.message(102, message_id)
    assert edited is not None
    assert "（第 4 篇）" in edited["text"] and "4. " in edited["text"]
    assert "1. " + GARBAGE_HEADLINE not in edited["text"]
    assert set(buttons(edited)) == {"📖 全文 4", "◀ 上一页"}

    await bot.press(102, message_id, buttons(edited)["◀ 上一页"])
    await bot.api.wait_for_calls_async("editMessageText", 2)
    back = bot.api.message(102, message_id)
    assert back is not None and f"1. {GARBAGE_HEADLINE}" in back["text"]
    assert len(bot.api.sent_messages(102)) == 1  # paging never sent a new message


async def test_nothing_found_suggests_latest(bot: RunningBot) -> None:
    reply = await bot.ask(103, "火星基地招聘宇航员")
    assert "没有找到" in reply["text"] and "/latest" in reply["text"]
    await bot.press(103, bot.last_message_id(103), buttons(reply)["📰 最新一期"])
    latest = (await bot.api.wait_for_messages_async(103, 2))[1]
    assert "📰" in latest["text"] and "2020年6月" in latest["text"]


async def test_start_offers_examples_that_answer(bot: RunningBot) -> None:
    welcome = await bot.ask(104, "/start")
    assert "社区报" in welcome["text"]
    keys = buttons(welcome)
    assert list(keys) == list(EXAMPLE_QUESTIONS)

    await bot.press(104, bot.last_message_id(104), keys[EXAMPLE_QUESTIONS[1]])
    answer = (await bot.api.wait_for_messages_async(104, 2))[1]
    assert "积水点" in answer["text"] and "找到" in answer["text"]

    help_reply = await bot.ask(104, "/help")
    for command in ("/latest", "/subscribe", "/unsubscribe", "/mysubs", "/ask"):
        assert command in help_reply["text"]


async def test_latest_with_and_without_street(bot: RunningBot) -> None:
    reply = await bot.ask(105, "/latest 天山路")
    text = reply["text"]
    assert "天山路街道 · 天山社区晨报 · 2020年6月" in text
    assert "王为人检查天山积水点改造" in text
    assert {"1", "2", "3"} <= set(buttons(reply))

    newest = await bot.ask(105, "/latest")
    assert "2020年6月" in newest["text"]

    unknown = await bot.ask(105, "/latest 火星路")
    assert "没有找到" in unknown["text"]
    assert "外滩街道" in buttons(unknown)  # the streets to choose from

    await bot.press(105, bot.last_message_id(105), buttons(unknown)["外滩街道"])
    waitan = (await bot.api.wait_for_messages_async(105, 4))[3]
    assert "外滩街道 · 社区报 · 2019年6月" in waitan["text"]


def long_issue_text() -> str:
    paragraphs = [
        f"第{n}段：长宁区天山路街道的志愿者们在社区花园里种下了第{n}批月季花苗，居民们纷纷前来帮忙浇水施肥，"
        "大家都说社区花园让邻里关系更加融洽了。花园还设置了雨水收集桶和堆肥箱，孩子们在这里学习自然知识。"
        for n in range(1, 81)
    ]
    return "社区花园月季花开满墙\n\n" + "\n\n".join(paragraphs) + "\n"


async def test_published_long_article_opens_in_pages(tmp_path: Path, api: FakeBotApi, corpus_index: Path) -> None:
    corpus, index = copy_corpus_and_index(tmp_path)
    settings = write_settings(tmp_path, api, index, corpus_dir=corpus)
    async with running_bot(make_services(settings), api) as bot:
        # Published by another process while the bot runs: found without a restart.
        issue, articles, text = parse_upload(long_issue_text().encode(), "garden.txt", "天山路街道", "2021-05")
        publish_issue(corpus, index, issue, articles, text)
        body = articles[0].body

        results = await bot.ask(106, "社区花园月季")
        assert "<b>1. 社区花园月季花开满墙</b>" in results["text"]
        assert "天山路街道 · 社区报 · 2021年5月" in results["text"]

        await bot.press(106, bot.last_message_id(106), buttons(results)["📖 全文 1"])
        first = (await bot.api.wait_for_messages_async(106, 2))[1]
        article_id = bot.last_message_id(106)
        pages = [first["text"]]
        assert "第 1/" in first["text"] and set(buttons(first)) == {"下一页 ▶"}
        total = int(re.search(r"第 1/(\d+) 页", first["text"])[1])  # type: ignore[index]
        assert total >= 3

        current = first
        for page in range(2, total + 1):
            await bot.press(106, article_id, buttons(current)["下一页 ▶"])
            await bot.api.wait_for_calls_async("editMessageText", page - 1)
            stored = bot.api.message(106, article_id)
            assert stored is not None and f"第 {page}/{total} 页" in stored["text"]
            pages.append(stored["text"])
            current = stored
        assert set(buttons(current)) == {"◀ 上一页"}

        await bot.press(106, article_id, buttons(current)["◀ 上一页"])
        await bot.api.wait_for_calls_async("editMessageText", total)
        stored = bot.api.message(106, article_id)
        assert stored is not None and f"第 {total - 1}/{total} 页" in stored["text"]

    for page in pages:
        assert len(visible(page).encode("utf-16-le")) // 2 <= 4096
    joined = "\n".join(visible(p) for p in pages)
    for paragraph in body.split("\n"):
        assert paragraph in joined  # nothing lost between pages
    assert all(c.ok for c in api.calls())


async def test_a_ten_day_old_article_button_still_opens(bot: RunningBot) -> None:
    data = callbacks.open_article("004_8c6126055dad1091-02", day=callbacks.today() - 10)
    await bot.press(107, 1, data)
    article = (await bot.api.wait_for_messages_async(107, 1))[0]
    assert "<b>王为人检查天山积水点改造</b>" in article["text"]
    assert "区委书记王为人" in article["text"]
