"""Groups (/ask, mentions and every command of ours answer or explain) and inline mode, end to end."""

from __future__ import annotations

from bots import RunningBot, buttons

from bot.core import callbacks, replies

GROUP = -100500


def mention(username: str) -> dict[str, object]:
    """The entity Telegram attaches to a leading @username."""
    return {"entities": [{"type": "mention", "offset": 0, "length": len(username) + 1}]}


async def test_group_answers_ask_mentions_and_every_command_of_ours(bot: RunningBot) -> None:
    username = bot.api.bot_username
    # Not for the bot: plain chatter, and a command that may be another bot's.
    for text in ("积水点改造", "/unknown"):
        bot.api.message_update(GROUP, text, user_id=300, chat_type="supergroup")

    asked = await bot.ask(GROUP, "/ask 积水点改造", user_id=301, chat_type="supergroup")
    assert "<b>1. 王为人检查天山积水点改造</b>" in asked["text"]
    assert asked["reply_parameters"]["message_id"]  # quotes the question in a group

    text = f"@{username} 老字号企业绣国旗"
    mentioned = await bot.ask(GROUP, text, user_id=302, chat_type="supergroup", **mention(username))
    assert "老字号企业人同绣国旗" in mentioned["text"]

    addressed = await bot.ask(GROUP, f"/ask@{username} 垃圾分类", user_id=303, chat_type="supergroup")
    assert "垃圾分类" in addressed["text"]

    empty = await bot.ask(GROUP, "/ask", user_id=303, chat_type="supergroup")
    assert "/ask 垃圾分类" in empty["text"]
    for bare in (f"@{username}", f"@{username} ？", f"@{username} 😀!"):
        usage = await bot.ask(GROUP, bare, user_id=304, chat_type="supergroup", **mention(username))
        assert usage["text"] == replies.GROUP_USAGE, bare

    # Every command of ours answers or explains in a group; none is met with silence.
    for command in ("/help", "/start", f"/help@{username}"):
        helped = await bot.ask(GROUP, command, user_id=305, chat_type="supergroup")
        assert "/ask" in helped["text"] and "私聊" in helped["text"], command
        assert buttons(helped)["💬 私聊我"] == f"https://t.me/{username}?start=help"
    latest = await bot.ask(GROUP, "/latest 天山路", user_id=305, chat_type="supergroup")
    assert "天山社区晨报" in latest["text"]
    for command in ("/subscribe 天山路", "/unsubscribe", "/mysubs"):
        explained = await bot.ask(GROUP, command, user_id=306, chat_type="supergroup")
        assert "私聊" in explained["text"] and command.split()[0] in explained["text"], command
        assert buttons(explained)["💬 私聊我"] == f"https://t.me/{username}?start=subscribe"
    unknown = await bot.ask(GROUP, f"/nosuch@{username}", user_id=306, chat_type="supergroup")
    assert unknown["text"] == replies.GROUP_UNKNOWN_COMMAND
    assert bot.services.db.query("SELECT COUNT(*) FROM subscribers")[0][0] == 0  # nothing subscribed the group

    # The chatter and /unknown of user 300 got nothing. User 300's next question is handled after
    # them (one member's updates run in order), so a reply to them would have come before its answer.
    await bot.ask(GROUP, "/ask 垃圾分类", user_id=300, chat_type="supergroup")
    quoted = {m.get("reply_parameters", {}).get("message_id") for m in bot.api.sent_messages(GROUP)}
    assert not quoted & {1, 2}
    logged = [r["chat_id"] for r in bot.services.db.query("SELECT chat_id FROM query_log")]
    assert len(logged) == 4 and set(logged) == {GROUP}


async def test_the_group_link_opens_the_street_list_in_private(bot: RunningBot) -> None:
    streets = await bot.ask(307, "/start subscribe")
    assert "订阅" in streets["text"] and buttons(streets)
    helped = await bot.ask(307, "/start help")
    assert "/subscribe" in helped["text"]


async def test_ask_in_reply_to_a_message_asks_its_text(bot: RunningBot) -> None:
    original = bot.api.message_update(GROUP, "天山积水点", user_id=305, chat_type="supergroup")
    reply = await bot.ask(GROUP, "/ask", user_id=306, chat_type="supergroup", reply_to_message=original["message"])
    assert "王为人检查天山积水点改造" in reply["text"]


async def test_inline_query_offers_articles_to_share(bot: RunningBot) -> None:
    bot.api.inline_query_update(user_id=310, query="垃圾分类")
    call = (await bot.api.wait_for_calls_async("answerInlineQuery"))[0]
    results = call.params["results"]
    assert results[0]["type"] == "article"
    assert results[0]["title"] == "市、区人大代表检查芷江西社区垃圾分类情况"
    assert "芷江西路街道" in results[0]["description"]
    content = results[0]["input_message_content"]
    assert content["parse_mode"] == "HTML"
    assert content["message_text"].startswith("<b>市、区人大代表检查芷江西社区垃圾分类情况</b>")
    assert len({r["id"] for r in results}) == len(results) == 4
    assert call.params.get("next_offset", "") == ""
    link = results[0]["reply_markup"]["inline_keyboard"][0][0]["url"]
    assert link.startswith(f"https://t.me/{bot.api.bot_username}?start=a")

    # The shared link opens the article in a private chat.
    payload = link.rsplit("=", 1)[1]
    article = await bot.ask(311, f"/start {payload}")
    assert "<b>市、区人大代表检查芷江西社区垃圾分类情况</b>" in article["text"]

    bot.api.inline_query_update(user_id=310, query="")
    bot.api.inline_query_update(user_id=310, query="火星基地")
    calls = await bot.api.wait_for_calls_async("answerInlineQuery", 3)
    for later in calls[1:]:
        assert later.params["results"] == []
        assert later.params["button"]["start_parameter"] == "inline"


async def test_sharing_an_inline_result_back_to_the_bot_is_not_a_question(bot: RunningBot) -> None:
    bot_user = bot.api.bot_user(bot.app.bot.token)
    bot.api.message_update(312, "市、区人大代表检查芷江西社区垃圾分类情况", via_bot=bot_user)
    reply = await bot.ask(312, "/help")
    assert "/latest" in reply["text"]
    # One chat's updates run in order: a reply to the shared article would have come first.
    assert len(bot.api.sent_messages(312)) == 1


async def test_buttons_in_a_group_reply_work(bot: RunningBot) -> None:
    reply = await bot.ask(GROUP, "/ask 垃圾分类", user_id=320, chat_type="supergroup")
    data = buttons(reply)["📖 全文 2"]
    assert isinstance(callbacks.decode(data), callbacks.OpenArticle)
    await bot.press(GROUP, bot.last_message_id(GROUP), data)
    article = (await bot.api.wait_for_messages_async(GROUP, 2))[1]
    assert "培花一" in article["text"] or "了解处理垃圾" in article["text"]
