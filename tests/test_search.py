"""Answering questions over the bundled corpus: ranking, no-answer detection, snippets, summaries."""

from __future__ import annotations

import pytest

from index.article import Article
from index.issue_catalog import street_matches
from index.search import SearchEngine
from index.search_response import PROBLEM_EMPTY, PROBLEM_NO_WORDS, PROBLEM_VAGUE
from index.snippet import best_snippet, find_highlights, split_sentences
from index.summary import lead_line
from index.summary_check import article_lead, check_line
from index.tokenize import Tokenizer


def _top_titles(engine: SearchEngine, question: str) -> list[str]:
    return [r.article.title for r in engine.search(question).results]


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("芷江西路垃圾分类检查去了哪些小区?", "检查芷江西社区垃圾分类"),
        ("天山路街道四史学习", "部署“四史”学习教育"),
        ("花木街道燃气检查", "用气安全"),
        ("宝兴日间照料中心义诊", "社区居民乐欢颜"),
        ("锦江区参访团", "锦江区参访团"),
        ("外滩老字号", "同绣国旗"),
        ("社區義診", "社区居民乐欢颜"),  # traditional characters
        ("ＤＩＹ积水点改造！！", "积水点改造"),  # full-width Latin and punctuation
    ],
)
def test_questions_find_their_article_first(engine: SearchEngine, question: str, expected: str) -> None:
    titles = _top_titles(engine, question)
    assert titles and expected in titles[0], titles


@pytest.mark.parametrize(
    "question", ["社区医院几点开门", "今天天气怎么样", "地铁几号线到外滩", "股票怎么买", "hello world"]
)
def test_questions_the_papers_do_not_answer_get_nothing(engine: SearchEngine, question: str) -> None:
    response = engine.search(question)
    assert response.results == [] and response.problem is None, [r.article.title for r in response.results]


@pytest.mark.parametrize(
    ("question", "problem"),
    [
        ("", PROBLEM_EMPTY),
        ("   \n\t", PROBLEM_EMPTY),
        ("🙂🙂", PROBLEM_EMPTY),
        ("怎么样？", PROBLEM_NO_WORDS),
        ("街道社区", PROBLEM_VAGUE),
    ],
)
def test_unsearchable_questions_say_why(engine: SearchEngine, question: str, problem: str) -> None:
    response = engine.search(question)
    assert response.problem == problem and response.message and response.results == []


def test_odd_input_never_raises(engine: SearchEngine) -> None:
    for question in ["<b>垃圾分类</b> & 小区", "垃圾" * 3000, "a\x00b", "积水点改造 🌧️ rain", "/start", "١٢٣"]:
        engine.search(question)


def test_pages_do_not_overlap(engine: SearchEngine) -> None:
    first = engine.search("党员学习教育", limit=3)
    second = engine.search("党员学习教育", limit=3, offset=3)
    assert first.total == second.total >= 4
    assert not {r.article.id for r in first.results} & {r.article.id for r in second.results}


def test_snippet_is_the_answering_sentence_with_marked_words(engine: SearchEngine) -> None:
    result = engine.search("垃圾分类检查去了哪些小区").results[0]
    assert "灵广花园、中兴财富、芷江新村、苏家巷等小区" in result.snippet.text
    assert len(result.snippet.text) <= 200
    marked = [result.snippet.text[s:e] for s, e in result.snippet.highlights]
    assert "小区" in marked and "垃圾分类" in marked


def test_snippet_is_trimmed_around_the_match() -> None:
    body = "开头" * 150 + "关键的积水点改造在这里。" + "结尾" * 150
    snippet = best_snippet(body, {"积水点": 5.0, "改造": 3.0}, limit=200)
    assert len(snippet.text) <= 200 and "积水点改造" in snippet.text and snippet.text.startswith("…")


def test_sentences_and_highlights() -> None:
    assert split_sentences("第一句。第二句！\n第三句") == ["第一句。", "第二句！", "第三句"]
    assert find_highlights("垃圾分类和垃圾", ["垃圾", "垃圾分类"]) == [(0, 4), (5, 7)]
    assert find_highlights("ＡＢＣ社区", ["abc"]) == [(0, 3)]


def test_summary_gives_each_article_a_key_sentence(engine: SearchEngine) -> None:
    issue = engine.find_issue("002")
    assert issue is not None and issue.street == "花木街道"
    lines = engine.summary(issue)
    assert len(lines) == 7
    for article, sentence in lines:
        check = check_line(sentence, article_lead(article))
        assert check.length and check.whole and check.opener, sentence


def test_bundled_issues_summary_lines_pass_the_checks(engine: SearchEngine) -> None:
    checks = [check_line(line, article_lead(a)) for issue in engine.issues for a, line in engine.summary(issue)]
    assert len(checks) == 23
    assert sum(c.passed for c in checks) >= 21, [c.line for c in checks if not c.passed]
    assert all(c.length for c in checks)


@pytest.mark.parametrize(
    ("sentence", "kept", "dropped"),
    [
        ("为了感谢居民的支持，近日，中心举办了一场义诊活动。", "近日，中心举办了一场义诊活动。", "感谢"),
        ("根据区里的相关要求，5月7日，街道召开大会。", "5月7日，街道召开大会。", "根据"),
        ("11月6日，在区委外事办的带领下，参访团来到社区参观学习。", "11月6日，参访团来到社区参观学习。", "带领"),
        ("为加强安全管理，巩固整治成果，10月24日，街道召开推进会。", "10月24日，街道召开推进会。", "巩固"),
        ("IT之家 8 月 16 日消息，京东集团今日发布财报。", "8月16日，京东集团今日发布财报。", "IT之家"),
    ],
)
def test_clause_compressor(sentence: str, kept: str, dropped: str) -> None:
    article = Article(id="x", headline="标题", body=sentence)
    line = lead_line(article)
    assert line == kept and dropped not in line


def test_latest_issue_and_streets(engine: SearchEngine) -> None:
    assert engine.streets() == ["外滩街道", "天山路街道", "花木街道", "芷江西路街道"]
    latest = engine.latest_issue("芷江西路")
    assert latest is not None and latest.month == "2020-06" and latest.id.startswith("000")
    assert engine.latest_issue("不存在的街道") is None
    assert street_matches("天山路街道", "天山路") and not street_matches("天山路街道", "外滩")


def test_tokenizer_drops_question_words_and_keeps_local_names() -> None:
    tokenizer = Tokenizer(["芷心工作坊"])
    tokens = tokenizer.query_tokens("芷心工作坊是做什么的？")
    assert "芷心工作坊" in tokens
    assert not {"什么", "是", "的", "做什么"} & set(tokens)
