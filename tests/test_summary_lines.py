"""Summary lines and the digest as a whole: debris in front of the lead, long leads cut back to
whole clauses, no line repeating its headline, and the digest checks (heading, repeats, phone
screen) on the bundled issues and on made-up digests that break each of them."""

from __future__ import annotations

import json
import random
from pathlib import Path

import pytest
from corpora import CORPUS

from bot.cli.commands import main as cli_main
from bot.core.dates import month_label
from bot.core.publishing import broadcast_text, issue_title
from index import clauses as cl
from index.article import Article
from index.lead_debris import strip_debris
from index.records import Issue
from index.search import SearchEngine
from index.summary import MAX_CHARS, lead_line, repeats_headline
from index.summary_check import SCREEN_ROWS, check_digest, check_line, screen_rows

# Made-up leads with the kinds of debris crawled news carries; (text, what must go, what must stay).
DEBRIS = [
    ("，正文：6月2日，街道举办夏季消防演练。", "正文", "6月2日，街道举办夏季消防演练。"),
    ("2021-06-02 09:15:00 6月2日，街道举办夏季消防演练。", "09:15", "6月2日，街道举办"),
    (
        "来源：某某日报 | 2021年06月02日 09:15:00，正文： 6月1日，社区召开议事会。",
        "某某日报",
        "6月1日，社区召开议事会。",
    ),
    ("原标题：社区开展消防演练某某网讯：6月2日，街道举办夏季消防演练。", "原标题", "6月2日，街道举办夏季消防演练。"),
    ("原标题：社区开展消防演练 社区开展消防演练 6月2日，街道举办演练。", "社区开展消防演练", "6月2日，街道举办演练。"),
    ("原标题：社区开展消防演练作者：王某 来源：某某网 为提高居民安全意识，6月2日，街道举办演练。", "王某", "6月2日"),
    ("原标题：社区开展消防演练本文转自【某某发布】；6月2日，街道举办演练。", "本文转自", "6月2日，街道举办演练。"),
    ("【某某报驻外记者 李某】6月2日，某市举办国际论坛。", "李某", "6月2日，某市举办国际论坛。"),
    ("某某网北京6月2日电（记者 张某 通讯员 赵某）街道举办夏季消防演练。", "张某", "6月2日，街道举办夏季消防演练。"),
    ("记者 王某 通讯员 张某 李某6月2日上午，地铁新线开始试运行。", "王某", "6月2日上午，地铁新线开始试运行。"),
    ("今天（6月2日），社区举办夏季消防演练。", "今天", "6月2日，社区举办夏季消防演练。"),
]


@pytest.mark.parametrize(("text", "gone", "kept"), DEBRIS, ids=[d[1] for d in DEBRIS])
def test_debris_before_the_lead_is_stripped(text: str, gone: str, kept: str) -> None:
    cleaned = strip_debris(text)
    assert gone not in cleaned and kept in cleaned, cleaned
    line = lead_line(Article(id="x", headline="社区新闻", body=text + "居民踊跃参加。"))
    assert gone not in line and check_line(line, cleaned).passed, line


def test_plain_text_is_left_alone() -> None:
    for text in ("5月7日，街道工会召开二届三次代表大会。", "本月起，社区图书馆延长开放时间，方便上班族。"):
        assert strip_debris(text) == text


def _long_sentence(rng: random.Random) -> str:
    words = ["社区", "居民", "志愿者", "街道", "文明", "服务", "活动", "开展", "宣传", "学习", "一起", "参加"]
    clauses = ["".join(rng.choice(words) for _ in range(rng.randint(3, 12))) for _ in range(rng.randint(4, 12))]
    return "6月2日，" + "，".join(clauses) + "。"


def test_long_leads_end_on_a_whole_clause() -> None:
    rng = random.Random(7)
    for _ in range(200):
        sentence = _long_sentence(rng)
        line = lead_line(Article(id="x", headline="社区新闻", body=sentence))
        assert len(line) <= MAX_CHARS and cl.is_whole(line), line
        # Made of the sentence's own leading clauses: nothing cut inside a clause.
        assert sentence.startswith(line[:-1]), (sentence, line)


def test_one_clause_too_long_loses_asides_and_lists_not_its_quotes() -> None:
    items = "、".join(f"第{n}小区" for n in range(1, 30))
    body = f"6月2日，街道“{'安全' * 5}”宣讲团（由{'志愿者' * 5}组成）走访了{items}。"
    line = lead_line(Article(id="x", headline="宣讲", body=body))
    assert len(line) <= MAX_CHARS and line.endswith("。")
    assert line.count("“") == line.count("”") and "（" not in line


def test_a_line_repeating_its_headline_gives_way_to_the_next_sentence() -> None:
    article = Article(
        id="x",
        headline="天山路街道召开居民代表大会",
        body="天山路街道召开居民代表大会。5月7日，近百名居民代表审议了加装电梯和停车管理两项议案。",
    )
    line = lead_line(article)
    assert not repeats_headline(line, article.headline) and "5月7日" in line
    assert repeats_headline("天山路街道召开居民代表大会。", article.headline)
    assert not repeats_headline("5月7日，天山路街道召开居民代表大会。", article.headline)


def _issue(newspaper: str, street: str = "天山路街道", month: str = "2020-07") -> Issue:
    return Issue(id="x", file="x.txt", street=street, district="", newspaper=newspaper, month=month)


def test_digest_checks_catch_each_fault() -> None:
    fine = [("天山路街道开设老年助餐点", "本月起，天山路街道在娄山关路新开一家老年助餐点。")]
    good = check_digest("📰 天山社区晨报 2020年7月 新一期出版了", "天山社区晨报", "2020年7月", fine)
    assert good.passed and good.tallest <= SCREEN_ROWS
    assert not check_digest("📰 天山社区晨报 新一期出版了", "天山社区晨报", "2020年7月", fine).heading
    repeated = check_digest("天山社区晨报 2020年7月", "天山社区晨报", "2020年7月", [(fine[0][0], fine[0][0] + "。")])
    assert repeated.repeats == (1,) and not repeated.passed
    tall = check_digest("天山社区晨报 2020年7月", "天山社区晨报", "2020年7月", [("标题" * 60, "很长" * 200)])
    assert tall.too_tall == (1,) and tall.tallest > SCREEN_ROWS
    assert screen_rows("字" * 16) == 1 and screen_rows("字" * 17) == 2 and screen_rows("a" * 32) == 1


@pytest.mark.parametrize(("newspaper", "expected"), [("天山社区晨报", "天山社区晨报"), ("", "天山路街道")])
def test_heading_names_the_newspaper_or_the_street_and_the_month(newspaper: str, expected: str) -> None:
    issue = _issue(newspaper)
    article = Article(id="a", headline="社区新闻", body="6月2日，街道举办夏季消防演练。")
    heading = broadcast_text(issue, [(article, lead_line(article))]).split("\n", 1)[0]
    assert expected in heading and "2020年7月" in heading and expected in issue_title(issue)


def test_bundled_digests_pass_every_digest_check(engine: SearchEngine) -> None:
    assert engine.issues
    for issue in engine.issues:
        lines = engine.summary(issue)
        heading = broadcast_text(issue, lines).split("\n", 1)[0].replace("<b>", "").replace("</b>", "")
        blocks = [(a.title, line) for a, line in lines]
        check = check_digest(heading, issue.newspaper or issue.street, month_label(issue.month), blocks)
        assert check.passed, (issue.id, check)


def test_summary_check_reports_the_digest(corpus_index: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["summary", "--check", "--corpus", str(CORPUS), "--index", str(corpus_index)]) == 0
    out = capsys.readouterr().out
    assert "digest: 5 issues" in out and "heading with newspaper and month 5/5" in out
    assert "lines repeating their headline 0/23" in out


def test_summary_json_keeps_its_shape(corpus_index: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert cli_main(["summary", "004", "--json", "--corpus", str(CORPUS), "--index", str(corpus_index)]) == 0
    data = json.loads(capsys.readouterr().out)
    assert {"issue", "street", "month", "articles"} <= set(data) and data["articles"]
    for entry in data["articles"]:
        assert set(entry) == {"id", "headline", "key_sentence"}
        assert entry["id"] and entry["headline"] and check_line(entry["key_sentence"], entry["key_sentence"]).whole
