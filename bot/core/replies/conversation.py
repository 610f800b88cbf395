"""The conversation around questions: welcome, help (private and in groups), small talk, the
offer to subscribe, refused bursts and re-answered edits.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.core import callbacks
from bot.core.messages import Button, Reply, Span, shorten, text
from bot.core.replies.texts import (
    BLANK,
    ECHO_CHARS,
    EDITED_ANSWER,
    EXAMPLE_QUESTIONS,
    GROUP_PRIVATE_ONLY,
    MAX_REFUSED_LISTED,
    REFUSED,
    REFUSED_MORE,
)

log = logging.getLogger(__name__)


def welcome_reply() -> Reply:
    """/start: what the bot does, and three example questions to tap."""
    lines = (
        text("你好！我是社区报小助手 📰"),
        text("直接把想了解的事发给我，我会在上海各街道的社区报里帮你找相关报道。"),
        BLANK,
        text("试试这些问题："),
    )
    rows = tuple((Button(q, callbacks.example(n)),) for n, q in enumerate(EXAMPLE_QUESTIONS))
    return Reply(lines, rows)


_SMALL_TALK_OPENING = {
    "greeting": "你好！我是社区报小助手 📰 我会在上海各街道的社区报里帮你找相关报道。",
    "thanks": "不客气 😊 还想了解什么，直接发给我就好。",
    "help": "我是社区报小助手：直接发一句话或几个关键词，我会在各街道的社区报里找相关报道。",
    "bye": "再见！想看新一期社区报，随时发送 /latest；发送 /subscribe 可以订阅新一期推送。",
}


def small_talk_reply(kind: str) -> Reply:
    """你好 / 谢谢 / help / 再见: a friendly pointer to what the bot does, with questions to try."""
    lines = [
        text(_SMALL_TALK_OPENING.get(kind, _SMALL_TALK_OPENING["help"])),
        text("可以这样问：" + "；".join(EXAMPLE_QUESTIONS[:2])),
        text("/latest 看最新一期 · /subscribe 订阅新一期推送 · /help 全部用法"),
    ]
    rows = tuple((Button(q, callbacks.example(n)),) for n, q in enumerate(EXAMPLE_QUESTIONS))
    return Reply(tuple(lines), rows)


def subscribe_offer_reply(street: str) -> Reply:
    """ "我想订阅天山路的社区报": the street's subscribe button (and the way to pick another)."""
    return Reply(
        (
            text(f"想订阅 {street} 的社区报吗？点下面的按钮就好，新一期出版时我会把要点发给你。"),
            text(f"也可以发送 /subscribe {street}；订阅其他街道：/subscribe"),
        ),
        ((Button(f"✅ 订阅 {street}", callbacks.subscribe(street)),),),
    )


def group_help_reply(username: str) -> Reply:
    """/help and /start in a group: how to ask there, and where to subscribe."""
    return Reply(
        (
            text(Span("在群里怎么用", bold=True)),
            text("/ask 问题 — 例如：/ask 垃圾分类"),
            text("@我 加上问题 — 例如：@" + username + " 积水点改造"),
            text("/latest [街道] — 最新一期的标题"),
            BLANK,
            text("订阅新一期推送、看全部用法，请私聊我。"),
        ),
        ((Button("💬 私聊我", url=f"https://t.me/{username}?start=help"),),),
    )


def group_private_only_reply(command: str, username: str) -> Reply:
    """/subscribe, /unsubscribe, /mysubs in a group: they are private-chat matters; a link there."""
    return Reply(
        (text(GROUP_PRIVATE_ONLY.format(command=command)),),
        ((Button("💬 私聊我", url=f"https://t.me/{username}?start=subscribe"),),),
    )


def refused_reply(questions: Sequence[str], more: int = 0) -> Reply:
    """Which questions were not answered because the resident sent more than the queue holds."""
    listed = questions[:MAX_REFUSED_LISTED]
    more += len(questions) - len(listed)
    lines = [text(REFUSED.format(count=len(listed) + more))]
    lines += [text(f"{n}. {shorten(q, ECHO_CHARS)}") for n, q in enumerate(listed, 1)]
    if more:
        lines.append(text(REFUSED_MORE.format(count=more)))
    return Reply(tuple(lines))


def edited_reply(reply: Reply) -> Reply:
    """The answer to an edited question, saying it answers the question as edited."""
    return Reply((text(EDITED_ANSWER), *reply.lines), reply.buttons)


def help_reply() -> Reply:
    """/help: the commands."""
    return Reply(
        (
            text(Span("怎么用", bold=True)),
            text("直接发送问题，例如：垃圾分类检查去了哪些小区？"),
            text("结果下面的按钮可以看全文、看更多结果。"),
            BLANK,
            text("/latest [街道] — 最新一期的标题"),
            text("/subscribe [街道] — 订阅新一期推送（“全部”订阅所有街道）"),
            text("/unsubscribe [街道] — 退订"),
            text("/mysubs — 我的订阅"),
            text("/ask 问题 — 在群里提问（也可以 @我）"),
        )
    )
