"""A broadcast residents can act on, over the fake Bot API: 全文 under each article sends the
whole article, 退订 stops the street, 设置 shows the streets to change, and all of them still work
after the application restarts (the buttons carry versioned callback data, not process state)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from bots import add_subscribers, bot_messages, buttons, make_services, publish, running_bot
from configs import make_settings
from corpora import NEW_ISSUE
from fake_bot_api import FakeBotApi

from bot.core import subscriptions
from bot.core.state import Database

STREET = "天山路街道"
NEIGHBOUR, EVERYWHERE = 3201, 3202
HEADLINES = ["天山路街道开设老年助餐点", "居民议事会讨论加装电梯", "社区图书馆延长开放时间"]


async def press_and_reply(api: FakeBotApi, chat: int, message_id: int, data: str) -> dict[str, Any]:
    """Press a button on a resident's message; the bot's next message to that chat."""
    before = len(api.sent_messages(chat))
    api.callback_update(chat, message_id, data, user_id=chat)
    return (await api.wait_for_messages_async(chat, before + 1, timeout=30))[-1]


def streets_of(settings_db: Path, chat: int) -> list[str]:
    db = Database(settings_db)
    try:
        return list(subscriptions.subscription_of(db, chat).streets)
    finally:
        db.close()


async def test_broadcast_buttons_open_unsubscribe_and_set_after_a_restart(tmp_path: Path, api: FakeBotApi) -> None:
    settings = make_settings(tmp_path, api)
    services = make_services(settings)
    add_subscribers(services.db, {NEIGHBOUR: STREET, EVERYWHERE: "*"})
    async with running_bot(services, api):
        await publish(api, "tianshan.txt", NEW_ISSUE, f"{STREET} 2020-07")
        await api.wait_for_messages_async(NEIGHBOUR, 1, timeout=30)
        await api.wait_for_messages_async(EVERYWHERE, 1, timeout=30)
    (broadcast_id, broadcast), *_ = bot_messages(api, NEIGHBOUR)
    (everywhere_id, everywhere), *_ = bot_messages(api, EVERYWHERE)
    keys = buttons(broadcast)
    opens = [text for text in keys if text.startswith("📖 全文")]
    assert len(opens) == len(HEADLINES)
    assert {"🔕 退订天山路街道", "⚙️ 设置"} <= set(keys)
    assert "点下面的按钮看全文" in broadcast["text"]

    # A new application over the same data: the buttons of the old message still work.
    restarted = make_services(settings)
    async with running_bot(restarted, api):
        article = await press_and_reply(api, NEIGHBOUR, broadcast_id, keys[opens[0]])
        assert HEADLINES[0] in article["text"] and "八十岁以上老人享受优惠" in article["text"]
        last = await press_and_reply(api, NEIGHBOUR, broadcast_id, keys[opens[2]])
        assert HEADLINES[2] in last["text"] and "每周三晚上开放到九点" in last["text"]

        shown = await press_and_reply(api, NEIGHBOUR, broadcast_id, keys["⚙️ 设置"])
        assert "你订阅了：天山路街道" in shown["text"]
        assert "🔕 退订天山路街道" in buttons(shown) and "花木街道" in buttons(shown)

        gone = await press_and_reply(api, NEIGHBOUR, broadcast_id, keys["🔕 退订天山路街道"])
        assert "已退订 天山路街道" in gone["text"]
        assert streets_of(settings.state_db, NEIGHBOUR) == []

        # Every street: one street cannot be dropped alone; 设置 is offered instead.
        told = await press_and_reply(api, EVERYWHERE, everywhere_id, buttons(everywhere)["🔕 退订天山路街道"])
        assert "全部街道" in told["text"] and "⚙️ 设置" in buttons(told)
        assert streets_of(settings.state_db, EVERYWHERE) == ["*"]

        # From 设置, a street is added back with one press.
        again = await press_and_reply(api, NEIGHBOUR, broadcast_id, keys["⚙️ 设置"])
        assert "没有订阅" in again["text"]
        before = len(api.sent_messages(NEIGHBOUR))
        again_id = bot_messages(api, NEIGHBOUR)[-1][0]
        api.callback_update(NEIGHBOUR, again_id, buttons(again)["花木街道"], user_id=NEIGHBOUR)

        def subscribed() -> list[str] | None:
            streets = streets_of(settings.state_db, NEIGHBOUR)
            return streets or None

        assert await api.wait_for_async(subscribed, timeout=30) == ["花木街道"]
        assert len(api.sent_messages(NEIGHBOUR)) == before  # the settings message was edited in place


def test_broadcast_button_data_round_trips_and_rejects_forgeries() -> None:
    from bot.core import callbacks

    assert callbacks.decode(callbacks.unsubscribe(STREET)) == callbacks.Unsubscribe(callbacks.Ref(STREET))
    long_street = "很长的街道名" * 12
    decoded = callbacks.decode(callbacks.unsubscribe(long_street))
    assert isinstance(decoded, callbacks.Unsubscribe) and decoded.street.matches(long_street)
    assert callbacks.decode(callbacks.show_settings()) == callbacks.ShowSettings()
    day = callbacks.show_settings().split(":")[2]
    for forged in (f"r1:g:{day}:extra", f"r1:u:{day}:", f"r1:u:{day}:#short"):
        assert isinstance(callbacks.decode(forged), callbacks.Expired)
