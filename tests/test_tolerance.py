"""Homophone typos and everyday words: unit tables and answers over a small index written for the tests."""

from __future__ import annotations

import json

import pytest

from index.build import build_index
from index.search import SearchEngine
from index.settings import IndexParams
from index.tolerance import (
    alternatives_for,
    alternatives_from_groups,
    correct_typos,
    default_alternatives,
    homophones,
    prefer_corrected,
    read_word_groups,
)

ARTICLES = [
    ("rest", "餐饮企业燃气安全大检查", "街道对辖区餐饮企业开展燃气安全检查，共检查餐饮企业30家，当场整改隐患5处。"),
    ("clinic", "家门口的医生", "社区卫生服务中心推出家庭医生签约服务，居民就医更方便，预约就诊不用排长队。"),
    ("elders", "长者照护之家开张", "长者照护之家今天开张，为高龄老年人提供日间照料、助浴和康复训练。"),
    ("free", "义诊进社区", "社区举办义诊活动，十多位医生为居民免费测量血压、血糖，解答健康问题。"),
    ("books", "书屋新书上架", "社区书屋新到图书五百册，欢迎居民借阅，开放时间为每天上午九点。"),
    ("choir", "合唱团比赛获奖", "街道合唱团参加区里的合唱比赛，获得了一等奖，团员们非常高兴。"),
    ("lift", "加装电梯完工", "老公房加装电梯工程完工，三楼以上的居民上下楼方便多了。"),
    ("flood", "积水点改造", "防汛前夕，积水点改造工程完成，暴雨时道路不再积水。"),
    ("fraud", "反诈宣传", "社区民警走进居民区开展反诈宣传，提醒老年人警惕电信诈骗。"),
    ("sort", "垃圾分类值守", "志愿者在垃圾箱房旁值守，指导居民做好垃圾分类。"),
]


@pytest.fixture(scope="module")
def engine(tmp_path_factory: pytest.TempPathFactory) -> SearchEngine:
    directory = tmp_path_factory.mktemp("tolerance")
    corpus = directory / "corpus"
    corpus.mkdir()
    lines = [
        json.dumps({"id": key, "title": title, "text": body, "date": "2021-03"}, ensure_ascii=False)
        for key, title, body in ARTICLES
    ]
    (corpus / "news.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    build_index(corpus, directory / "index", IndexParams())
    return SearchEngine.open(directory / "index")


def ids(engine: SearchEngine, question: str) -> list[str]:
    return [r.article.id for r in engine.search(question).results]


@pytest.mark.parametrize(
    ("word", "known", "expected"),
    [
        ("义珍", {"义诊", "一阵", "意真"}, ["义诊"]),  # 一阵 would change both characters
        ("绒秀", {"绒绣"}, ["绒绣"]),
        ("积水点改早", {"积水点改造"}, ["积水点改造"]),
        ("食堂", {"一堂"}, []),  # 食 is shí: its rare reading yì is not tried
        ("居委", {"居委"}, []),  # a word is not its own homophone
        ("abc", {"abd"}, []),
        ("义", {"议"}, []),  # single characters are never corrected
    ],
)
def test_homophones(word: str, known: set[str], expected: list[str]) -> None:
    assert homophones(word, known.__contains__) == expected


def test_correct_typos_keeps_known_words_and_joins_single_characters() -> None:
    known = {"社区", "义诊", "活动"}.__contains__
    words = [("社区", []), ("义", []), ("珍", []), ("活动", [])]
    assert correct_typos(words, known, lambda w: 1).replaced == {"义珍": "义诊"}
    assert correct_typos([("社区", []), ("义诊", [])], known, lambda w: 1).replaced == {}


def test_the_most_frequent_homophone_wins() -> None:
    frequency = {"义诊": 9, "意诊": 1}
    found = correct_typos([("义珍", [])], frequency.__contains__, frequency.__getitem__)
    assert found.replaced == {"义珍": "义诊"}


def test_word_groups_go_from_everyday_to_official_and_bad_lines_are_skipped() -> None:
    groups = read_word_groups("# comment\n饭店 饭馆 = 餐饮企业\nno equals sign\n = 空\n")
    assert groups == [(["饭店", "饭馆"], ["餐饮企业"])]
    table = alternatives_from_groups(groups)
    assert table["饭店"] == ("餐饮企业",) and "餐饮企业" not in table
    assert alternatives_for(["饭馆", "燃气"], table) == {"饭馆": ["餐饮企业"]}


def test_the_shipped_list() -> None:
    table = default_alternatives()
    assert len(table) >= 120  # everyday words
    assert all(word not in others for word, others in table.items())
    assert "餐饮企业" in table["饭店"] and "就医" in table["看病"] and "老年人" in table["老人"]


def test_a_typo_finds_its_article_and_says_so(engine: SearchEngine) -> None:
    response = engine.search("社区义珍")
    assert [r.article.id for r in response.results][:1] == ["free"]
    assert response.suggestion == "社区义诊"
    assert response.to_dict()["suggestion"] == "社区义诊"
    assert "义诊" in [response.results[0].snippet.text[s:e] for s, e in response.results[0].snippet.highlights]
    # Spelt right, nothing to suggest.
    right = engine.search("社区义诊")
    assert right.results[0].article.id == "free" and not right.suggestion


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("饭店", "rest"),  # the paper says 餐饮企业
        ("看病方便吗", "clinic"),  # 就医
        ("养老院开张", "elders"),  # 长者照护之家
        ("煤气检查", "rest"),  # 燃气
        ("老房子装电梯", "lift"),  # 老公房 加装电梯
    ],
)
def test_everyday_words_find_the_official_words(engine: SearchEngine, question: str, expected: str) -> None:
    assert ids(engine, question)[:1] == [expected]


@pytest.mark.parametrize("question", ["游泳馆几点开门", "火车票怎么买", "篮球比赛结果", "社区食堂在哪里", "hello"])
def test_questions_the_papers_do_not_answer_still_get_nothing(engine: SearchEngine, question: str) -> None:
    assert ids(engine, question) == []


def test_spellings_are_pruned_by_dictionary_prefixes() -> None:
    prefixes = {"绒", "绒绣"}
    assert homophones("绒秀", {"绒绣"}.__contains__, prefixes.__contains__) == ["绒绣"]
    # A known word no dictionary word starts like is not reached.
    assert homophones("绒秀", {"容绣"}.__contains__, prefixes.__contains__) == []


def test_a_question_that_already_finds_its_article_is_not_corrected_halfway(engine: SearchEngine) -> None:
    # 义珍 sounds like 义诊, but no article has 合唱, 比赛 and 义诊 together: the unknown word is
    # more likely a name the index never saw than a typo, and the question keeps its own answer.
    response = engine.search("合唱比赛义珍")
    assert [r.article.id for r in response.results][:1] == ["choir"]
    assert not response.suggestion


def test_asking_words_are_not_typos() -> None:
    known = {"那艘", "油轮"}.__contains__
    assert correct_typos([("哪艘", []), ("油轮", [])], known, lambda w: 1).replaced == {}


@pytest.mark.parametrize(
    ("original", "corrected", "taken"),
    [
        ([], [(1, 3.0, 0.6)], True),  # the question found nothing: any answer of the corrected one
        ([(1, 3.0, 0.6)], [(2, 5.0, 1.0)], True),  # answered in full and better
        ([(1, 3.0, 0.6)], [(2, 5.0, 0.8)], False),  # better, but not all of it: keep the question's own
        ([(1, 6.0, 0.6)], [(2, 5.0, 1.0)], False),
        ([(1, 3.0, 0.6)], [], False),
    ],
)
def test_when_a_correction_replaces_the_question(
    original: list[tuple[int, float, float]], corrected: list[tuple[int, float, float]], taken: bool
) -> None:
    assert prefer_corrected(original, corrected) is taken
