"""The bot's checks on an uploaded issue, over the fake Bot API: a duplicate up to spacing is
refused naming the issue; a second issue of a street and month is asked about, and a correction
replaces the old issue in search without a second broadcast (the short 更正 notice only when
staff press for it); an unknown street needs confirming; months come from the issue first, a
month that is no month is refused and a far-off month needs confirming."""

from __future__ import annotations

import pytest
from bots import add_subscribers, buttons, press, publish, running_bot, upload, wait_for_bot_message
from configs import STAFF
from corpora import NEW_ISSUE
from fake_bot_api import FakeBotApi

from bot.core.broadcasts import recent_broadcasts
from bot.core.services import BotServices
from bot.core.state import Database

STREET = "天山路街道"
TIANSHAN = [3101, 3102]
CORRECTED = NEW_ISSUE.replace("每天中午为社区老人供应午餐", "每天中午和傍晚为社区老人供应午餐和晚餐")


@pytest.fixture
def services(services: BotServices) -> BotServices:
    """The conftest staff services, with subscribers."""
    add_subscribers(services.db, dict.fromkeys(TIANSHAN, STREET))
    return services


def corpus_files(services: BotServices) -> list[str]:
    return sorted(p.name for p in services.settings.corpus_dir.iterdir())


def broadcasts(services: BotServices) -> int:
    return len(recent_broadcasts(Database(services.settings.state_db)))


def index_bodies(services: BotServices, title: str) -> list[str]:
    engine = services.holder.engine
    return [a.body for a in engine.index.articles() if a.title == title]


async def test_a_duplicate_up_to_spacing_is_refused_naming_the_issue(api: FakeBotApi, services: BotServices) -> None:
    sample = next(p for p in services.settings.corpus_dir.glob("004_*.txt"))
    respaced = sample.read_text(encoding="utf-8").replace("\n", "\n\n") + "\n\n\n"
    before = corpus_files(services)
    async with running_bot(services, api):
        _, refused = await upload(api, "again.txt", respaced.encode("gb18030"), STREET, "已经发布过")
    assert "天山社区晨报 2020年6月" in refused["text"] and sample.name in refused["text"]
    assert not buttons(refused)
    assert corpus_files(services) == before


async def test_a_correction_replaces_the_issue_in_search_and_is_not_broadcast(
    api: FakeBotApi, services: BotServices
) -> None:
    async with running_bot(services, api):
        await publish(api, "tianshan-a.txt", NEW_ISSUE, f"{STREET} 2020-07")
        for chat in TIANSHAN:
            await api.wait_for_messages_async(chat, 1, timeout=30)
        await wait_for_bot_message(api, STAFF, "用时")  # the broadcast's final report
        files = corpus_files(services)

        ask_id, ask = await upload(api, "tianshan-b.txt", CORRECTED.encode(), f"{STREET} 2020-07", "已经发布过一期")
        assert "天山社区晨报 2020年7月" in ask["text"]
        assert {"✏️ 更正（替换旧一期）", "➕ 另一期", "✖️ 取消"} == set(buttons(ask))
        preview = await press(api, ask_id, "✏️ 更正", "预览")
        assert "更正" in preview["text"] and "不会再推送" in preview["text"] and "将推送给" not in preview["text"]
        assert {"✅ 发布更正（不通知）", "📣 发布并通知更正", "✖️ 取消"} == set(buttons(preview))
        done = await press(api, ask_id, "✅ 发布更正", "已更正")
        assert "没有再次推送" in done["text"] and not buttons(done)

        # The old issue's articles left the index; the corrected ones answer.
        bodies = index_bodies(services, "天山路街道开设老年助餐点")
        assert len(bodies) == 1 and "傍晚" in bodies[0]
        found = services.holder.engine.search("老年助餐点 晚餐").results
        assert found and "傍晚" in found[0].article.body
        assert len(corpus_files(services)) == len(files)
        assert "tianshan-a" not in " ".join(corpus_files(services))
        assert len(services.holder.engine.issues) == 6
    assert broadcasts(services) == 1
    assert all(len(api.sent_messages(chat)) == 1 for chat in TIANSHAN)


async def test_a_correction_can_tell_subscribers_and_another_issue_is_broadcast(
    api: FakeBotApi, services: BotServices
) -> None:
    async with running_bot(services, api):
        await publish(api, "tianshan-a.txt", NEW_ISSUE, f"{STREET} 2020-07")
        ask_id, _ = await upload(api, "tianshan-b.txt", CORRECTED.encode(), f"{STREET} 2020-07", "已经发布过一期")
        await press(api, ask_id, "✏️ 更正", "预览")
        done = await press(api, ask_id, "📣 发布并通知更正", "已更正")
        assert "更正通知" in done["text"]
        for chat in TIANSHAN:
            notice = (await api.wait_for_messages_async(chat, 2, timeout=30))[-1]
            assert "更正" in notice["text"] and "天山社区晨报 2020年7月" in notice["text"]
            assert any(text.startswith("📖 全文") for text in buttons(notice))

        third = NEW_ISSUE.replace("天山路街道开设老年助餐点", "天山路街道再开一家老年助餐点").replace(
            "娄山关路", "仙霞路"
        )
        ask_id, _ = await upload(api, "tianshan-c.txt", third.encode(), f"{STREET} 2020-07", "这一期是对它的更正")
        await press(api, ask_id, "➕ 另一期", "预览")
        await press(api, ask_id, "✅ 发布", "已发布")
        for chat in TIANSHAN:
            messages = await api.wait_for_messages_async(chat, 3, timeout=30)
            assert "再开一家" in messages[-1]["text"]
    assert broadcasts(services) == 3
    assert len(index_bodies(services, "天山路街道开设老年助餐点")) == 1


async def test_an_unknown_street_is_refused_unless_confirmed_new(api: FakeBotApi, services: BotServices) -> None:
    before = corpus_files(services)
    async with running_bot(services, api):
        ask_id, ask = await upload(api, "x.txt", NEW_ISSUE.encode(), "新华路街道 2020-07", "还没有“新华路街道”的报纸")
        assert "已有的街道：" in ask["text"] and "天山路街道" in ask["text"]
        assert {"🆕 是新街道：新华路街道", "天山路街道", "花木街道", "✖️ 取消"} <= set(buttons(ask))
        assert corpus_files(services) == before
        # A known street instead: the preview names it.
        preview = await press(api, ask_id, "花木街道", "预览")
        assert "街道：花木街道" in preview["text"]
        await press(api, ask_id, "✖️ 取消", "已取消")

        ask_id, _ = await upload(api, "y.txt", NEW_ISSUE.encode(), "新华路街道 2020-07", "还没有“新华路街道”的报纸")
        preview = await press(api, ask_id, "🆕 是新街道", "预览")
        assert "街道：新华路街道" in preview["text"]
        await press(api, ask_id, "✅ 发布", "已发布")
    assert "新华路街道" in services.holder.engine.streets()


async def test_months_come_from_the_issue_and_are_validated(api: FakeBotApi, services: BotServices) -> None:
    dated = NEW_ISSUE.replace("本月起", "2019年5月起")
    async with running_bot(services, api):
        # The file name's month first, then the dates in the text, before any month by the clock.
        ask_id, ask = await upload(api, "tianshan-2021-03.txt", dated.encode(), STREET, "是哪个月的")
        labels = [text for text in buttons(ask) if text != "✖️ 取消"]
        assert labels[:2] == ["2021年3月", "2019年5月"]
        preview = await press(api, ask_id, "2019年5月", "预览")
        assert "月份：2019年5月" in preview["text"]
        await press(api, ask_id, "✖️ 取消", "已取消")

        # No 13th month: refused with the reason, and months offered instead.
        ask_id, ask = await upload(api, "t.txt", NEW_ISSUE.encode(), f"{STREET} 2020-13", "不是有效的月份")
        assert "“2020-13”" in ask["text"] and "是哪个月的" in ask["text"]
        assert not any("13月" in text for text in buttons(ask))
        await press(api, ask_id, "✖️ 取消", "已取消")

        # Far in the future: asked again before the preview.
        ask_id, ask = await upload(api, "u.txt", NEW_ISSUE.encode(), f"{STREET} 2099-01", "晚了一个多月")
        assert "确定是2099年1月" in ask["text"] and "✅ 确定是 2099年1月" in buttons(ask)
        preview = await press(api, ask_id, "✅ 确定是", "预览")
        assert "2099年1月" in preview["text"]
