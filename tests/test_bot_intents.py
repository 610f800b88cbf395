"""Small talk, subscribing in words, numbers and 更多 in Telegram, over the fake Bot API."""

from __future__ import annotations

from bots import RunningBot, buttons

from bot.core import subscriptions
from bot.core.replies import EXAMPLE_QUESTIONS


async def test_small_talk_gets_a_pointer_not_nothing_found(bot: RunningBot) -> None:
    for chat_id, message in ((301, "你好"), (302, "谢谢！"), (303, "help"), (304, "再见"), (305, "Hello")):
        reply = await bot.ask(chat_id, message)
        assert "没有找到" not in reply["text"], message
        assert "/latest" in reply["text"] and "/subscribe" in reply["text"]
        assert list(buttons(reply)) == list(EXAMPLE_QUESTIONS)  # questions to tap
    assert "不客气" in (await bot.ask(306, "多谢啦"))["text"]
    # Small talk is not a question: the query log stays empty.
    assert bot.services.db.query("SELECT count(*) FROM query_log")[0][0] == 0

    # A greeting with a question is a question.
    answer = await bot.ask(307, "你好，芷江西路垃圾分类检查去了哪些小区")
    assert "找到 1 篇相关报道" in answer["text"]


async def test_subscribing_in_words_offers_the_street(bot: RunningBot) -> None:
    offer = await bot.ask(311, "我想订阅天山路的社区报")
    assert "天山路街道" in offer["text"]
    keys = buttons(offer)
    assert list(keys) == ["✅ 订阅 天山路街道"]
    await bot.press(311, bot.last_message_id(311), keys["✅ 订阅 天山路街道"])
    await bot.api.wait_for_calls_async("editMessageText", 1, timeout=30)
    assert list(subscriptions.subscription_of(bot.services.db, 311).streets) == ["天山路街道"]

    # Without a street: every street to choose from.
    choose = await bot.ask(312, "怎么订阅？")
    assert "想订阅哪个街道" in choose["text"]
    assert {"天山路街道", "外滩街道", "全部街道"} <= set(buttons(choose))

    hint = await bot.ask(311, "我不想收推送了")
    assert "/unsubscribe" in hint["text"]
    # Words never unsubscribe: nothing was removed.
    assert list(subscriptions.subscription_of(bot.services.db, 311).streets) == ["天山路街道"]


async def test_numbers_and_more_work_as_in_the_terminal(bot: RunningBot) -> None:
    first = await bot.ask(321, "垃圾分类")
    assert "找到 4 篇相关报道（第 1–3 篇）" in first["text"]

    article = await bot.ask(321, "1")
    assert "代表们来到灵广花园" in article["text"]  # result 1, in full

    page = await bot.ask(321, "更多")
    assert "（第 4 篇）" in page["text"] and "4. " in page["text"]
    assert "📖 全文 4" in buttons(page) and "◀ 上一页" in buttons(page)

    fourth = await bot.ask(321, "4")  # numbers follow the page shown last
    assert "垃圾分类" in fourth["text"] and "找到" not in fourth["text"]
    wrong = await bot.ask(321, "1")
    assert "请输入 4–4 之间的数字" in wrong["text"]
    assert "没有更多结果了" in (await bot.ask(321, "更多"))["text"]

    latest = await bot.ask(321, "/latest 天山路")
    assert "天山路街道 · 天山社区晨报" in latest["text"]
    opened = await bot.ask(321, "2")
    assert "区委书记王为人带队检查" in opened["text"]


async def test_numbers_and_more_before_anything_was_listed(bot: RunningBot) -> None:
    assert "还没有提问" in (await bot.ask(331, "更多"))["text"]
    # With nothing listed a number is a question, as in the terminal chat.
    reply = await bot.ask(331, "9")
    assert "没有找到" in reply["text"] or "找到" in reply["text"]
    assert bot.services.db.query("SELECT question FROM query_log WHERE chat_id = 331")[0][0] == "9"


async def test_a_corrected_typo_says_what_was_searched(bot: RunningBot) -> None:
    reply = await bot.ask(341, "老字号绒秀国旗")
    assert "您是不是要找：老字号绒绣国旗" in reply["text"]
    assert "同绣国旗" in reply["text"]
    plain = await bot.ask(342, "老字号绣国旗")
    assert "您是不是要找" not in plain["text"] and "同绣国旗" in plain["text"]
