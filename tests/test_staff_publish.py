"""Publishing from the bot, end to end against the fake Bot API: upload, preview, Publish or
Cancel, bad files, the broadcast reaching subscribers, and `newsbot publish` from the shell."""

from __future__ import annotations

import asyncio
from pathlib import Path

import pytest
import yaml
from bots import add_subscribers, bot_messages, buttons, running_bot, wait_for_bot_message
from configs import RESIDENT, STAFF
from corpora import NEW_ISSUE
from fake_bot_api import FakeBotApi

from bot.cli.commands import main as cli_main
from bot.core import staff_texts
from bot.core.broadcasts import recent_broadcasts
from bot.core.issue_facts import parse_month
from bot.core.services import BotServices
from bot.core.staff_texts import REFUSAL
from bot.core.state import Database
from bot.edge.staff_upload import parse_caption

STREET = "天山路街道"
TIANSHAN = [3001, 3002, 3003]
EVERYWHERE = 3004
HUAMU = 3005
NEW_HEADLINES = ["天山路街道开设老年助餐点", "居民议事会讨论加装电梯", "社区图书馆延长开放时间"]


@pytest.fixture
def services(services: BotServices) -> BotServices:
    """The conftest staff services, with subscribers."""
    add_subscribers(services.db, {**dict.fromkeys(TIANSHAN, STREET), EVERYWHERE: "*", HUAMU: "花木街道"})
    return services


def reopen(services: BotServices) -> Database:
    """The state database again (the bot closes its connection when it stops)."""
    return Database(services.settings.state_db)


def corpus_files(services: BotServices) -> list[str]:
    return sorted(p.name for p in services.settings.corpus_dir.iterdir())


def test_caption_and_month_parsing() -> None:
    streets = ["外滩街道", "天山路街道", "花木街道", "芷江西路街道"]
    assert parse_month("2020-07") == "2020-07"
    assert parse_month("2020年7月") == "2020-07"
    assert parse_month("202007") == "2020-07"
    assert parse_month("2020.7") == "2020-07"
    assert parse_month("2020-13") is None
    assert parse_month("天山") is None
    assert parse_caption("天山路街道 2020-07", streets) == ("天山路街道", [], "2020-07")
    assert parse_caption("街道：天山路，月份：2020年7月", streets) == ("天山路街道", [], "2020-07")
    assert parse_caption("天山社区晨报 2020-07", streets, {"天山社区晨报": "天山路街道"})[0] == "天山路街道"
    assert parse_caption("新华路街道", streets) == ("新华路街道", [], None)
    assert parse_caption("街道", streets)[0] is None
    assert parse_caption("", streets) == (None, [], None)
    assert parse_caption("七月刊", streets) == (None, [], None)


async def test_upload_preview_publish_and_broadcast(api: FakeBotApi, services: BotServices) -> None:
    before = corpus_files(services)
    assert not services.holder.engine.search("娄山关路 老年助餐点").results
    async with running_bot(services, api):
        api.document_update(
            STAFF, "tianshan-2020-07.txt", NEW_ISSUE.encode("utf-8"), caption="天山路街道 2020-07", user_id=STAFF
        )
        preview_id, preview = await wait_for_bot_message(api, STAFF, "预览")
        text = preview["text"]
        assert "3 篇文章" in text and "将推送给 4 位订阅者" in text
        assert "街道：天山路街道" in text and "2020年7月" in text and "区：长宁区" in text
        assert all(headline in text for headline in NEW_HEADLINES)
        assert "娄山关路新开一家老年助餐点" in text  # a key sentence
        assert "[📖 全文 ×3] [🔕 退订天山路街道] [⚙️ 设置]" in text
        assert {b for b in buttons(preview) if not b.startswith("✏️ 修改")} == {"✅ 发布", "✖️ 取消"}
        assert sum(b.startswith("✏️ 修改") for b in buttons(preview)) == len(NEW_HEADLINES)
        assert corpus_files(services) == before  # nothing happens before Publish

        api.callback_update(STAFF, preview_id, buttons(preview)["✅ 发布"], user_id=STAFF)
        await wait_for_bot_message(api, STAFF, "已发布")
        published = api.message(STAFF, preview_id)
        assert published is not None and "居民现在就能搜到" in published["text"] and not buttons(published)

        # Residents find the new issue at once: it was appended to the index, not rebuilt.
        found = services.holder.engine.search("娄山关路 老年助餐点").results
        assert found and found[0].article.title == NEW_HEADLINES[0]
        assert len(services.holder.engine.index.meta["segments"]) == 2
        assert len(corpus_files(services)) == len(before) + 1

        for chat in [*TIANSHAN, EVERYWHERE]:
            messages = await api.wait_for_messages_async(chat, 1, timeout=30)
            assert all(headline in messages[0]["text"] for headline in NEW_HEADLINES)
            assert messages[0]["parse_mode"] == "HTML"
        await wait_for_bot_message(api, STAFF, "完成：天山社区晨报 2020年7月（报告见下一条消息）")
        _, final = await wait_for_bot_message(api, STAFF, "用时")
        report = final["text"]
        assert "已发送 4" in report and "屏蔽了机器人 0" in report and "失败 0" in report

        before_questions = len(api.sent_messages(RESIDENT))
        api.message_update(RESIDENT, "娄山关路的老年助餐点")
        answer = (await api.wait_for_messages_async(RESIDENT, before_questions + 1, timeout=30))[-1]
        assert NEW_HEADLINES[0] in answer["text"]

        before_list = len(api.sent_messages(STAFF))
        api.message_update(STAFF, "/broadcasts", user_id=STAFF)
        listing = (await api.wait_for_messages_async(STAFF, before_list + 1, timeout=30))[-1]["text"]
        assert "天山社区晨报 2020年7月 · 已完成" in listing and "已发送 4/4" in listing

        # Pressing Publish again (a stale button) publishes nothing twice.
        api.callback_update(STAFF, preview_id, buttons(preview)["✅ 发布"], user_id=STAFF)
        await wait_for_bot_message(api, STAFF, "已过期")
    assert api.sent_messages(HUAMU) == []
    assert len(recent_broadcasts(reopen(services))) == 1
    assert all(len(api.sent_messages(chat)) == 1 for chat in [*TIANSHAN, EVERYWHERE])


async def test_buttons_ask_street_and_month_and_cancel_changes_nothing(api: FakeBotApi, services: BotServices) -> None:
    before = corpus_files(services)
    async with running_bot(services, api):
        api.document_update(STAFF, "issue.txt", NEW_ISSUE.encode("gb18030"), user_id=STAFF)
        ask_id, ask = await wait_for_bot_message(api, STAFF, "是哪个街道的")
        assert {"天山路街道", "花木街道", "外滩街道", "芷江西路街道", "✖️ 取消"} == set(buttons(ask))

        api.callback_update(STAFF, ask_id, buttons(ask)["天山路街道"], user_id=STAFF)
        await wait_for_bot_message(api, STAFF, "是哪个月的")
        month_question = api.message(STAFF, ask_id)
        assert month_question is not None
        months = buttons(month_question)
        assert len(months) == 5 and all(label.endswith("月") for label in months if label != "✖️ 取消")

        month_label = next(iter(months))
        api.callback_update(STAFF, ask_id, months[month_label], user_id=STAFF)
        await wait_for_bot_message(api, STAFF, "预览")
        preview = api.message(STAFF, ask_id)
        assert preview is not None and month_label in preview["text"] and "将推送给 4 位订阅者" in preview["text"]

        api.callback_update(STAFF, ask_id, buttons(preview)["✖️ 取消"], user_id=STAFF)
        await wait_for_bot_message(api, STAFF, "已取消")
        assert not buttons(api.message(STAFF, ask_id) or {})
    assert corpus_files(services) == before
    assert recent_broadcasts(reopen(services)) == []
    assert all(api.sent_messages(chat) == [] for chat in [*TIANSHAN, EVERYWHERE, HUAMU])


BAD_FILES = [
    ("photo.jpg", b"\xff\xd8\xff\xe0 not text", "只接受 .txt"),
    ("binary.txt", b"\x89PNG\r\n\x1a\n\x00\x00" + bytes(range(256)), "不是 UTF-8 或 GB18030"),
    ("latin.txt", bytes([0xFF, 0xFE, 0xFA]) * 40, "不是 UTF-8 或 GB18030"),
    ("empty.txt", b"", "文件是空的"),
    ("huge.txt", "社区新闻。".encode() * 150_000, "文件太大"),
]


@pytest.mark.parametrize(("name", "content", "reason"), BAD_FILES, ids=[b[0] for b in BAD_FILES])
async def test_bad_files_are_explained_and_change_nothing(
    api: FakeBotApi, services: BotServices, name: str, content: bytes, reason: str
) -> None:
    before = corpus_files(services)
    async with running_bot(services, api) as bot:
        api.document_update(STAFF, name, content, caption="天山路街道 2020-07", user_id=STAFF)
        messages = await api.wait_for_messages_async(STAFF, 1, timeout=30)
        await bot.settle()  # nothing else follows
        assert len(api.sent_messages(STAFF)) == 1
    text = messages[0]["text"]
    assert reason in text and "不能发布" in text and "没有做任何改动" in text
    assert not messages[0].get("reply_markup")
    assert corpus_files(services) == before
    assert recent_broadcasts(reopen(services)) == []
    if name == "huge.txt":
        assert api.calls("getFile") == []  # refused without downloading


async def test_same_file_twice_is_not_published_twice(api: FakeBotApi, services: BotServices) -> None:
    async with running_bot(services, api):
        api.document_update(STAFF, "t.txt", NEW_ISSUE.encode(), caption="天山路街道 2020-07", user_id=STAFF)
        message_id, preview = await wait_for_bot_message(api, STAFF, "预览")
        api.callback_update(STAFF, message_id, buttons(preview)["✅ 发布"], user_id=STAFF)
        await wait_for_bot_message(api, STAFF, "已发布")
        files = corpus_files(services)
        # The same text again, even under another name and encoding, is refused before any preview.
        api.document_update(STAFF, "again.txt", NEW_ISSUE.encode("gb18030"), user_id=STAFF)
        _, refused = await wait_for_bot_message(api, STAFF, "已经发布过")
        assert not buttons(refused)
        assert corpus_files(services) == files
    assert len(recent_broadcasts(reopen(services))) == 1


async def test_residents_files_get_the_resident_answer(api: FakeBotApi, services: BotServices) -> None:
    async with running_bot(services, api) as bot:
        api.document_update(RESIDENT, "issue.txt", NEW_ISSUE.encode(), caption="天山路街道", user_id=RESIDENT)
        reply = (await api.wait_for_messages_async(RESIDENT, 1, timeout=30))[0]["text"]
        await bot.settle()
    assert len(api.sent_messages(RESIDENT)) == 1
    assert "文字" in reply and REFUSAL not in reply and "预览" not in reply
    assert api.calls("getFile") == []


async def test_command_line_publish_is_broadcast_by_the_running_bot(
    tmp_path: Path, api: FakeBotApi, services: BotServices
) -> None:
    settings = services.settings
    config = tmp_path / "config.yaml"
    config.write_text(
        yaml.safe_dump({"corpus_dir": str(settings.corpus_dir), "data_dir": str(settings.data_dir)}), encoding="utf-8"
    )
    issue = tmp_path / "tianshan-2020-08.txt"
    issue.write_text(NEW_ISSUE, encoding="utf-8")
    async with running_bot(services, api):
        code = await asyncio.to_thread(
            cli_main,
            ["publish", str(issue), "--street", STREET, "--month", "2020-08", "--yes", "--config", str(config)],
        )
        assert code == 0
        for chat in [*TIANSHAN, EVERYWHERE]:
            messages = await api.wait_for_messages_async(chat, 1, timeout=30)
            assert NEW_HEADLINES[0] in messages[0]["text"]
    infos = recent_broadcasts(reopen(services))
    assert len(infos) == 1 and infos[0].state == "done" and infos[0].counts.sent == 4
    assert infos[0].created_by is None and infos[0].report_chat_id is None
    assert api.sent_messages(HUAMU) == []
    assert [m for _, m in bot_messages(api, STAFF)] == []


def test_every_refusal_of_the_library_is_worded_for_staff() -> None:
    """Each typed error index/ raises has its own Chinese sentence (none falls back to the English)."""
    import index.publish as lib
    from index.pdf import DamagedPdf, NotPdf, ScannedPdf, TooManyPages, UnencodedFont
    from index.text_decoding import BinaryFile, EmptyFile, NotText, TextTooLarge

    causes = [EmptyFile(), NotText(), BinaryFile(), TextTooLarge(5 << 20, 4 << 20)]
    causes += [NotPdf(), TooManyPages(40), DamagedPdf("PDFSyntaxError"), ScannedPdf(2), UnencodedFont(99)]
    errors: list[lib.PublishError] = [lib.UnreadableFile(cause) for cause in causes]
    errors += [
        lib.BadMonth("2020-13"),
        lib.NotAnIssueFile("a.doc"),
        lib.FileTooLarge(3 << 20, 2 << 20),
        lib.NoArticles(),
        lib.IssueFileExists("x.txt"),
        lib.CorrectedIssueGone("old.txt"),
        lib.SameMonthIssue("x.txt"),
        lib.DuplicateIssue("x.txt"),
        lib.DuplicateIssue("x.txt", "天山社区晨报 2020年7月"),
    ]
    worded = [staff_texts.publish_refusal(error) for error in errors]
    for error, text in zip(errors, worded, strict=True):
        assert text != str(error) and any("\u4e00" <= ch <= "\u9fff" for ch in text), (error, text)
    assert len(set(worded)) == len(worded)
    assert "5120 KB" in worded[3] and "4096 KB" in worded[3]
    assert "天山社区晨报 2020年7月（x.txt）" in worded[-1]
