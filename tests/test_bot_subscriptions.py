"""Subscriptions end to end (persisting across restarts of the bot) and the subscription store."""

from __future__ import annotations

from bots import buttons, make_services, running_bot
from fake_bot_api import FakeBotApi

from bot.core import replies, subscriptions
from bot.core.settings import Settings
from bot.core.state import Database
from index.issue_catalog import street_matches
from index.search import SearchEngine

CHAT = 201


async def test_subscriptions_and_old_buttons_survive_restarts(
    settings: Settings, api: FakeBotApi, engine: SearchEngine
) -> None:
    async with running_bot(make_services(settings, engine), api) as bot:
        menu = await bot.ask(CHAT, "/subscribe")
        keys = buttons(menu)
        assert {"天山路街道", "外滩街道", "花木街道", "芷江西路街道", "全部街道"} <= set(keys)
        menu_id = bot.last_message_id(CHAT)
        await bot.press(CHAT, menu_id, keys["天山路街道"])
        await api.wait_for_calls_async("editMessageText", 1)
        edited = api.message(CHAT, menu_id)
        assert edited is not None and "已订阅 天山路街道" in edited["text"]

        reply = await bot.ask(CHAT, "/subscribe 外滩")
        assert "已订阅 外滩街道" in reply["text"]
        again = await bot.ask(CHAT, "/subscribe 外滩街道")
        assert "你已经订阅了" in again["text"]

        results = await bot.ask(CHAT, "垃圾分类")
        more = buttons(results)["更多结果 ▶"]
        results_id = bot.last_message_id(CHAT)

    async with running_bot(make_services(settings, engine), api) as bot:
        mine = await bot.ask(CHAT, "/mysubs")
        assert "天山路街道" in mine["text"] and "外滩街道" in mine["text"]
        # A "more results" button made before the restart still works.
        await bot.press(CHAT, results_id, more)
        await api.wait_for_calls_async("editMessageText", 2)
        paged = api.message(CHAT, results_id)
        assert paged is not None and "（第 4 篇）" in paged["text"]

        gone = await bot.ask(CHAT, "/unsubscribe 外滩")
        assert "已退订 外滩街道" in gone["text"] and "还在订阅：天山路街道" in gone["text"]

    async with running_bot(make_services(settings, engine), api) as bot:
        mine = await bot.ask(CHAT, "/mysubs")
        assert "天山路街道" in mine["text"] and "外滩街道" not in mine["text"]
        everything = await bot.ask(CHAT, "/unsubscribe")
        assert "已退订 天山路街道" in everything["text"]

    async with running_bot(make_services(settings, engine), api) as bot:
        mine = await bot.ask(CHAT, "/mysubs")
        assert "还没有订阅" in mine["text"]
        nothing = await bot.ask(CHAT, "/unsubscribe")
        assert "没有订阅" in nothing["text"]

    db = Database(settings.state_db)
    try:
        row = db.query("SELECT active FROM subscribers WHERE chat_id = ?", (CHAT,))[0]
        assert row["active"] == 0
        assert db.query("SELECT * FROM subscriptions WHERE chat_id = ?", (CHAT,)) == []
    finally:
        db.close()


async def test_subscribe_to_all_and_bad_street(settings: Settings, api: FakeBotApi, engine: SearchEngine) -> None:
    async with running_bot(make_services(settings, engine), api) as bot:
        unknown = await bot.ask(CHAT, "/subscribe 火星路<b>&")
        assert "没有找到“火星路&lt;b&gt;&amp;”" in unknown["text"]
        assert "全部街道" in buttons(unknown)

        everything = await bot.ask(CHAT, "/subscribe 全部")
        assert "已订阅 全部街道" in everything["text"]
        assert subscriptions.subscribers_for(bot.services.db, "花木街道") == [CHAT]

        menu = await bot.ask(CHAT, "/subscribe")
        await bot.press(CHAT, bot.last_message_id(CHAT), buttons(menu)["全部街道"])
        await api.wait_for_calls_async("editMessageText", 1)
        edited = api.message(CHAT, bot.last_message_id(CHAT))
        assert edited is not None and "你已经订阅了 全部街道" in edited["text"]


def test_subscription_store(state_url: str) -> None:
    db = Database(state_url)
    try:
        assert subscriptions.subscription_of(db, 1) == subscriptions.ChatSubscription(1)
        outcome = subscriptions.subscribe(db, 1, ["天山路街道", "外滩街道", "天山路街道"], now=100.0)
        assert outcome.added == ("天山路街道", "外滩街道")
        assert outcome.subscription.active and outcome.subscription.since == 100.0
        subscriptions.subscribe(db, 2, [subscriptions.ALL_STREETS], now=101.0)
        subscriptions.subscribe(db, 3, ["花木街道"], now=102.0)

        assert subscriptions.subscribers_for(db, "天山路街道") == [1, 2]
        assert subscriptions.subscribers_for(db, "天山路", street_matches) == [1, 2]

        subscriptions.mark_blocked(db, 1, now=103.0)
        assert subscriptions.subscribers_for(db, "天山路街道") == [2]
        again = subscriptions.subscribe(db, 1, ["天山路街道"], now=104.0)
        assert again.added == () and again.subscription.active and again.subscription.since == 104.0

        # "All" replaces single streets.
        everything = subscriptions.subscribe(db, 3, [subscriptions.ALL_STREETS])
        assert everything.subscription.streets == (subscriptions.ALL_STREETS,)
        assert everything.subscription.all_streets

        assert subscriptions.unsubscribe(db, 1, "外滩街道") == ["外滩街道"]
        assert subscriptions.unsubscribe(db, 1, "外滩街道") == []
        assert subscriptions.subscription_of(db, 1).active
        assert subscriptions.unsubscribe(db, 1) == ["天山路街道"]
        assert not subscriptions.subscription_of(db, 1).active

        first = subscriptions.log_query(db, 5, "垃圾分类", 4)
        second = subscriptions.log_query(db, None, "x" * 5000, 0)
        assert second != first  # random ids, not sequential
        assert subscriptions.logged_question(db, first, 5) == "垃圾分类"
        assert subscriptions.logged_question(db, first, 6) is None  # another chat's row
        assert len(subscriptions.logged_question(db, second) or "") == subscriptions.MAX_LOGGED_QUESTION
        assert subscriptions.logged_question(db, 999) is None
    finally:
        db.close()


async def test_an_edited_command_is_not_run_again(settings: Settings, api: FakeBotApi, engine: SearchEngine) -> None:
    chat = CHAT + 1
    async with running_bot(make_services(settings, engine), api) as bot:
        reply = await bot.ask(chat, "/subscribe 天山路")
        assert "已订阅 天山路街道" in reply["text"]
        command_id = bot.last_message_id(chat) - 1
        api.edited_message_update(chat, command_id, "/subscribe 外滩")
        # Updates are handled in order per chat: the edit's notice comes first, then this answer.
        notice, mine = await bot.say(chat, "/mysubs", count=2)
    assert notice["text"] == replies.EDITED_COMMAND.format(command="/subscribe")
    assert "天山路街道" in mine["text"] and "外滩街道" not in mine["text"]
    assert not any("外滩" in m["text"] for m in api.sent_messages(chat) if m["text"] != mine["text"])
