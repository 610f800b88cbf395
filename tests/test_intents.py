"""The reading of a resident's message shared by the Telegram bot and the terminal chat."""

from __future__ import annotations

import pytest

from bot.core.intents import BYE, GREETING, HELP, MORE, NUMBER, QUESTION, SUBSCRIBE, THANKS, UNSUBSCRIBE, recognise


@pytest.mark.parametrize(
    ("message", "kind"),
    [
        ("你好", GREETING),
        ("您好！", GREETING),
        ("小助手你好呀", GREETING),
        ("Hello", GREETING),
        ("hi 👋", GREETING),
        ("在吗？", GREETING),
        ("謝謝", THANKS),
        ("多谢啦", THANKS),
        ("好的，谢谢", THANKS),
        ("thank you", THANKS),
        ("help", HELP),
        ("帮助", HELP),
        ("你能做什么？", HELP),
        ("怎么用", HELP),
        ("再见", BYE),
        ("拜拜~", BYE),
        ("更多", MORE),
        ("下一页", MORE),
        ("我想订阅天山路的社区报", SUBSCRIBE),
        ("怎么订阅", SUBSCRIBE),
        ("能不能每期都发给我", SUBSCRIBE),
        ("取消订阅", UNSUBSCRIBE),
        ("不想收推送了，怎么退订", UNSUBSCRIBE),
        ("你好，垃圾分类检查去了哪些小区", QUESTION),
        ("谢谢你们报道的敬老活动在哪里办的", QUESTION),
        ("垃圾分类", QUESTION),
        ("社区里有什么帮助老人的服务", QUESTION),
        ("街道在微信公众号上开通了订阅服务，居民们反响很好，报纸上写了哪些具体的做法和居民的评价呢", QUESTION),
        ("", QUESTION),
    ],
)
def test_recognise(message: str, kind: str) -> None:
    assert recognise(message).kind == kind


@pytest.mark.parametrize(("message", "number"), [("1", 1), ("２", 2), (" 12 ", 12), ("1234567890", 0)])
def test_numbers(message: str, number: int) -> None:
    intent = recognise(message)
    assert intent.kind == NUMBER and intent.number == number


def test_a_year_with_more_words_is_a_question() -> None:
    assert recognise("2019年的活动").kind == QUESTION
