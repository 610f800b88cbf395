"""The terminal chat's wording: the same replies, worded for typing instead of tapping."""

from __future__ import annotations

import logging
from collections.abc import Sequence

from bot.core.messages import shorten
from bot.core.replies.texts import ECHO_CHARS, EXAMPLE_QUESTIONS, NOT_IN_TERMINAL

log = logging.getLogger(__name__)

# (Telegram's wording, the terminal's): one types (输入) what one sends (发送) in Telegram.
TERMINAL_WORDING = (
    ("发送 /", "输入 /"),
    ("请从下面选一个街道：", "可选街道："),
    ("/help 全部用法", "/help 全部用法，Ctrl-D 退出"),
)


TERMINAL_OPEN_HINT = "输入数字看全文。"


TERMINAL_LOADING = "正在载入社区报资料库…"


TERMINAL_BUILT = "已建立索引：{count} 篇文章"


TERMINAL_SKIPPED = "跳过 {path}：{reason}"


def for_terminal(message: str) -> str:
    """A Telegram reply's plain text as the terminal chat says it."""
    for telegram_words, terminal_words in TERMINAL_WORDING:
        message = message.replace(telegram_words, terminal_words)
    return message


def terminal_list_hint(first: int, last: int, more: bool) -> str:
    """The hint under listed results: which numbers open an article, and 更多."""
    hints = [f"输入 {first}–{last} 看全文" if last > first else f"输入 {last} 看全文"]
    if more:
        hints.append("输入“更多”看下一页")
    return "（" + "，".join(hints) + "）"


def terminal_subscribe_text(wanted: str, found: Sequence[str], streets: Sequence[str]) -> str:
    """/subscribe in the terminal: subscriptions live in Telegram; which streets there are."""
    lines = [NOT_IN_TERMINAL]
    if wanted:
        if len(found) == 1:
            lines.append(f"在 Telegram 里发送 /subscribe {found[0]} 即可订阅。")
        else:
            lines.append(f"没有找到“{shorten(wanted, ECHO_CHARS)}”。")
    if streets:
        lines.append("可订阅的街道：" + "、".join(streets))
    return "\n".join(lines)


def terminal_welcome_text() -> str:
    """The terminal chat's welcome, with the example questions to type."""
    lines = [
        "你好！我是社区报小助手 📰",
        "直接输入想了解的事，我会在上海各街道的社区报里帮你找相关报道。",
        "试试这些问题：",
        *(f"  · {q}" for q in EXAMPLE_QUESTIONS),
        "输入 /help 查看命令，Ctrl-D 退出。",
    ]
    return "\n".join(lines)


def terminal_help_text() -> str:
    """What can be typed in the terminal chat."""
    return "\n".join(
        [
            "直接输入问题，例如：垃圾分类检查去了哪些小区？",
            "数字（如 1）— 看刚列出的文章全文",
            "更多 — 看下一页结果",
            "/latest [街道] — 最新一期的标题",
            "/subscribe [街道] — 可订阅的街道（订阅在 Telegram 里使用）",
            "/quit — 退出（或 Ctrl-D）",
        ]
    )
