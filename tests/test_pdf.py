"""PDF issues: extraction equals the text issue (columns, headlines, captions, masthead), refusals
for scans and unreadable files, `newsbot index` over a corpus with a PDF, and the bot's upload flow."""

from __future__ import annotations

from pathlib import Path

import pytest
from bots import add_subscribers, buttons, running_bot, wait_for_bot_message
from configs import STAFF, make_settings, write_cli_config
from fake_bot_api import FakeBotApi
from pdfs import SampleArticle, SampleIssue, issue_pdf, issue_text

import index.publish
from bot.cli.commands import main as cli_main
from bot.core import staff_texts
from bot.core.services import BotServices
from index.corpus import load_corpus
from index.issue_parser import parse_issue
from index.pdf import DamagedPdf, NotPdf, ScannedPdf, UnencodedFont, pdf_to_text
from index.publish import NotAnIssueFile, UnreadableFile, parse_upload

ISSUE = SampleIssue(
    "天山社区晨报",
    "2020年7月31日　第7期　天山路街道党工委、办事处联合出版",
    [
        SampleArticle(
            "娄山关路开设社区长者食堂",
            [
                "本报讯 7月10日，娄山关路社区长者食堂正式开张，为周边六十岁以上的老人提供午餐和晚餐，"
                "每份套餐十五元，行动不便的老人还可以预约送餐上门。",
                "食堂负责人介绍，菜单每周更换一次，少油少盐，照顾老人的口味和健康。开张第一天就有两百多位老人前来就餐，"
                "不少人说以后不用再为一日三餐发愁了。",
            ],
            caption="7月10日，老人在长者食堂用餐",
        ),
        SampleArticle(
            "居民议事会讨论加装电梯",
            [
                "本报讯 7月15日，仙霞居民区召开居民议事会，讨论多层住宅加装电梯的方案，"
                "三十多位居民代表到场，逐项听取了设计单位的介绍。",
                "议事会上，低楼层居民提出采光和噪声的顾虑，设计单位当场调整了电梯井的位置。",
            ],
            source="（仙霞居民区）",
        ),
        SampleArticle(
            "社区图书馆延长开放时间",
            [
                "本报讯 从8月1日起，天山路街道社区图书馆每天开放到晚上八点，周末照常开放，"
                "方便上班族下班后借书还书。读者凭社保卡即可办理借阅证。",
            ],
            caption="社区图书馆阅览室",
        ),
    ],
)


def _shape(articles):  # type: ignore[no-untyped-def]
    return [(a.headline, a.kicker, a.subtitle, a.byline, a.body, a.captions, a.source) for a in articles]


def test_pdf_articles_equal_the_text_issue() -> None:
    text = pdf_to_text(issue_pdf(ISSUE))
    from_pdf = parse_issue(text, "x")
    from_text = parse_issue(issue_text(ISSUE), "x")
    assert len(from_pdf) == 3
    assert [a.headline for a in from_pdf] == [a.headline for a in ISSUE.articles]
    assert from_pdf[0].captions == ["7月10日，老人在长者食堂用餐"] and from_pdf[1].source == "仙霞居民区"
    assert _shape(from_pdf) == _shape(from_text)
    # The masthead is furniture, not an article or a paragraph.
    assert "天山社区晨报" not in text and "联合出版" not in text
    # A body line ends in the middle of a word in the left column and goes on in the right one.
    assert "两百多位老人前来就餐" in from_pdf[0].body


def test_scan_and_broken_pdfs_are_refused_with_reasons() -> None:
    with pytest.raises(ScannedPdf) as scanned:
        pdf_to_text(issue_pdf(ISSUE, scanned=True))
    assert scanned.value.pages == 1
    assert "没有文字层" in staff_texts.unreadable_pdf(scanned.value)
    with pytest.raises((DamagedPdf, ScannedPdf)):
        pdf_to_text(b"%PDF-1.4\nnot really a pdf")
    with pytest.raises(UnreadableFile) as not_pdf:
        parse_upload(b"hello", "issue.pdf", "天山路街道")
    assert isinstance(not_pdf.value.cause, NotPdf)
    assert "不是 PDF" in staff_texts.publish_refusal(not_pdf.value)
    with pytest.raises(NotAnIssueFile) as doc:
        parse_upload(b"hello", "issue.doc", "天山路街道")
    assert ".pdf" in staff_texts.publish_refusal(doc.value)


def test_cid_garbage_is_refused() -> None:
    from index import pdf as pdf_module

    pages = [pdf_module.Page(600, 800, [pdf_module.Line("(cid:12)(cid:34)(cid:56)" * 5, 50, 500, 400, 410, 10)], [])]
    original = pdf_module.read_pages
    pdf_module.read_pages = lambda data: pages  # type: ignore[assignment]
    try:
        with pytest.raises(UnencodedFont) as garbage:
            pdf_to_text(b"%PDF")
        assert garbage.value.cids == 15
        assert "(cid:N)" in staff_texts.unreadable_pdf(garbage.value)
    finally:
        pdf_module.read_pages = original


def test_corpus_reads_pdf_and_skips_the_original_beside_its_text(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "tianshan.pdf").write_bytes(issue_pdf(ISSUE))
    (corpus / "kept.txt").write_text(issue_text(ISSUE), encoding="utf-8")
    (corpus / "kept.pdf").write_bytes(issue_pdf(ISSUE))
    (corpus / "scan.pdf").write_bytes(issue_pdf(ISSUE, scanned=True))
    load = load_corpus(corpus)
    assert sorted(i.id for i in load.issues) == ["kept", "tianshan"]
    assert [Path(s.path).name for s in load.skipped] == ["scan.pdf"]
    assert "no text layer" in load.skipped[0].reason


def cli_config(tmp_path: Path) -> Path:
    """A config.yaml over a private copy of the sample corpus and its index."""
    return write_cli_config(make_settings(tmp_path))


def test_cli_publishes_a_pdf_and_keeps_it(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    config = cli_config(tmp_path)
    pdf = tmp_path / "tianshan-2020-07.pdf"
    pdf.write_bytes(issue_pdf(ISSUE))
    assert (
        cli_main(
            ["publish", str(pdf), "--street", "天山路街道", "--month", "2020-07", "--yes", "--config", str(config)]
        )
        == 0
    )
    corpus = tmp_path / "corpus"
    kept = sorted(p.name for p in corpus.iterdir() if "tianshan" in p.name)
    assert len(kept) == 2 and kept[0].endswith(".pdf") and kept[1].endswith(".txt")
    assert (corpus / kept[0]).read_bytes() == pdf.read_bytes()
    capsys.readouterr()
    assert cli_main(["search", "娄山关路 长者食堂", "--config", str(config)]) == 0
    assert "娄山关路开设社区长者食堂" in capsys.readouterr().out


@pytest.fixture
def services(services: BotServices) -> BotServices:
    """The conftest staff services, with subscribers."""
    add_subscribers(services.db, {4001: "天山路街道"})
    return services


async def test_bot_publishes_an_uploaded_pdf(
    api: FakeBotApi, services: BotServices, monkeypatch: pytest.MonkeyPatch
) -> None:
    extractions: list[int] = []

    def counted(data: bytes) -> str:
        extractions.append(len(data))
        return pdf_to_text(data)

    # The upload is extracted once, on arrival; the preview and the publish use that text.
    monkeypatch.setattr(index.publish, "pdf_to_text", counted)
    async with running_bot(services, api):
        api.document_update(STAFF, "tianshan.pdf", issue_pdf(ISSUE), caption="天山路街道 2020-07", user_id=STAFF)
        preview_id, preview = await wait_for_bot_message(api, STAFF, "预览")
        assert "3 篇文章" in preview["text"] and "娄山关路开设社区长者食堂" in preview["text"]
        api.callback_update(STAFF, preview_id, buttons(preview)["✅ 发布"], user_id=STAFF)
        await wait_for_bot_message(api, STAFF, "已发布")
        assert len(extractions) == 1
        messages = await api.wait_for_messages_async(4001, 1, timeout=30)
        assert "娄山关路开设社区长者食堂" in messages[0]["text"]
        found = services.holder.engine.search("娄山关路 长者食堂").results
        assert found and found[0].article.title == "娄山关路开设社区长者食堂"
        names = sorted(p.name for p in services.settings.corpus_dir.iterdir())
        assert any(n.endswith("_tianshan.pdf") for n in names) and any(n.endswith("_tianshan.txt") for n in names)

        # The same issue again, now as text with other line breaks: refused, naming the issue.
        again = issue_text(ISSUE).replace("\n\n", "\n\n\n") + "\n\n"
        api.document_update(STAFF, "again.txt", again.encode("utf-8"), caption="天山路街道 2020-07", user_id=STAFF)
        _, refusal = await wait_for_bot_message(api, STAFF, "已经发布过")
        assert "天山社区晨报 2020年7月" in refusal["text"] and "没有做任何改动" in refusal["text"]
