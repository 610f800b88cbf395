"""Subscriptions as residents read them: subscribed, unsubscribed, 我的订阅, settings, street
choices, and the buttons and foot of a broadcast (and its 更正 notice).
"""

from __future__ import annotations

import html
import logging
from collections.abc import Sequence

from bot.core import callbacks
from bot.core.messages import Button, Reply, shorten, text
from bot.core.replies.answers import _rows, notice
from bot.core.replies.texts import ECHO_CHARS, MAX_STREET_BUTTONS

log = logging.getLogger(__name__)


def broadcast_buttons(articles: Sequence[tuple[str, str]], street: str) -> tuple[tuple[Button, ...], ...]:
    """Under a broadcast: 全文 for each (article id, headline), then 退订 (this street) and 设置."""
    rows: list[tuple[Button, ...]] = [
        (Button(f"📖 全文：{shorten(title, 16)}", callbacks.open_article(article_id)),)
        for article_id, title in articles
    ]
    rows.append(
        (
            Button(f"🔕 退订{shorten(street, 10)}", callbacks.unsubscribe(street)),
            Button("⚙️ 设置", callbacks.show_settings()),
        )
    )
    return tuple(rows)


BROADCAST_FOOT = "点下面的按钮看全文；不想再收到可以退订。"


def broadcast_head(title: str) -> str:
    """A new issue's broadcast, its first line (`title` HTML-escaped)."""
    return f"📰 <b>{title}</b> 新一期出版了"


def more_articles(count: int) -> str:
    """The broadcast's last line when more articles are in the issue than it shows."""
    return f"……还有 {count} 篇"


def correction_notice_html(title: str, street: str) -> str:
    """The short notice subscribers get when staff publish a correction and choose to tell them (HTML)."""
    return (
        f"✏️ <b>更正</b>：{html.escape(title)} 有更正，内容已经更新。\n"
        + (f"{html.escape(street)}\n" if street and street not in title else "")
        + "点下面的按钮看更正后的全文。"
    )


def settings_reply(subscribed: Sequence[str], streets: Sequence[str]) -> Reply:
    """The 设置 button: what the chat gets, a button to drop each, and the streets to add."""
    if subscribed:
        lines = [
            text(f"你订阅了：{'、'.join(street_label(s) for s in subscribed)}"),
            text("点“退订”去掉一个，或点街道加订："),
        ]
    else:
        lines = [text("你现在没有订阅。点下面的街道订阅，新一期出版时我会把要点发给你。")]
    drop = [Button(f"🔕 退订{shorten(street_label(s), 10)}", callbacks.unsubscribe(s)) for s in subscribed]
    others = [s for s in streets if s not in subscribed]
    add = [Button(s, callbacks.subscribe(s)) for s in others[:MAX_STREET_BUTTONS]]
    if "*" not in subscribed:
        add.append(Button("全部街道", callbacks.subscribe(None)))
    return Reply(tuple(lines), _rows(drop, 2) + _rows(add, 2))


def everything_subscribed_reply(street: str) -> Reply:
    """退订 pressed for one street by a chat that gets every street."""
    return Reply(
        (
            text(f"你订阅的是全部街道，所以会收到{street}的推送。"),
            text("点“设置”改成只订阅某些街道，或发送 /unsubscribe 全部退订。"),
        ),
        ((Button("⚙️ 设置", callbacks.show_settings()),),),
    )


def no_issues_reply() -> Reply:
    """The index holds no issue at all."""
    return notice("资料库里还没有社区报。")


def street_buttons(streets: Sequence[str], action: str) -> tuple[tuple[Button, ...], ...]:
    """A button per street (two per row); `action` is 'subscribe' or 'latest'."""
    make = callbacks.subscribe if action == "subscribe" else callbacks.latest
    buttons = [Button(s, make(s)) for s in streets[:MAX_STREET_BUTTONS]]
    if action == "subscribe":
        buttons.append(Button("全部街道", callbacks.subscribe(None)))
    return _rows(buttons, 2)


def unknown_street_reply(wanted: str, streets: Sequence[str], action: str) -> Reply:
    """A street name that matches nothing (or several): offer the streets as buttons."""
    lines = [text(f"没有找到“{shorten(wanted, ECHO_CHARS)}”的社区报。请从下面选一个街道：")]
    if not streets:
        return no_issues_reply()
    if len(streets) > MAX_STREET_BUTTONS:
        lines.append(text(f"（共 {len(streets)} 个街道，这里列出前 {MAX_STREET_BUTTONS} 个；也可以直接输入街道名）"))
    return Reply(tuple(lines), street_buttons(streets, action))


def choose_street_reply(streets: Sequence[str]) -> Reply:
    """/subscribe without a street: the streets as buttons, and 'all'."""
    if not streets:
        return no_issues_reply()
    lines = [
        text("想订阅哪个街道的社区报？新一期出版时我会把要点发给你。"),
        text("点下面的街道，或者发送 /subscribe 街道名（/subscribe 全部 订阅所有街道）。"),
    ]
    return Reply(tuple(lines), street_buttons(streets, "subscribe"))


def street_label(street: str) -> str:
    """A stored street name as residents read it ('*' is every street)."""
    return "全部街道" if street == "*" else street


def subscribed_reply(added: Sequence[str], streets: Sequence[str]) -> Reply:
    """After /subscribe: what was added, and what the chat now gets."""
    current = "、".join(street_label(s) for s in streets)
    if added:
        first = f"已订阅 {'、'.join(street_label(s) for s in added)} 的社区报。新一期出版时我会把要点发给你。"
    else:
        first = f"你已经订阅了 {current}。"
    return Reply((text(first), text(f"当前订阅：{current}"), text("退订：/unsubscribe")))


def unsubscribed_reply(removed: Sequence[str], left: Sequence[str], wanted: str | None) -> Reply:
    """After /unsubscribe."""
    if not removed:
        if wanted:
            current = "、".join(street_label(s) for s in left) or "无"
            return Reply((text(f"你没有订阅“{shorten(wanted, ECHO_CHARS)}”。"), text(f"当前订阅：{current}")))
        return notice("你现在没有订阅。发送 /subscribe 选择街道。")
    lines = [text(f"已退订 {'、'.join(street_label(s) for s in removed)}。")]
    if left:
        lines.append(text(f"还在订阅：{'、'.join(street_label(s) for s in left)}"))
    else:
        lines.append(text("不会再收到新一期的推送了。随时可以用 /subscribe 重新订阅。"))
    return Reply(tuple(lines))


def mysubs_reply(active: bool, streets: Sequence[str], since_label: str) -> Reply:
    """/mysubs."""
    if not active or not streets:
        return notice("你还没有订阅。发送 /subscribe 选择街道，新一期出版时我会把要点发给你。")
    return Reply(
        (
            text(f"你订阅了：{'、'.join(street_label(s) for s in streets)}"),
            text(f"订阅时间：{since_label}"),
            text("退订某个街道：/unsubscribe 街道名；全部退订：/unsubscribe"),
        )
    )
