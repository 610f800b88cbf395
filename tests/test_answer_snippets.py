"""What a question asks for, where a passage holds it, and the snippet that shows the answer.

The texts are written for these tests (not taken from the corpus or the dev questions).
"""

from __future__ import annotations

import pytest

from index.answer_kind import DATE, LIST, PERSON, PLACE, QUANTITY, answer_spans, asked_kinds
from index.snippet import best_snippet, find_highlights
from index.tokenize import Tokenizer

TOKENIZER = Tokenizer(["长风公园居民区"])


@pytest.mark.parametrize(
    ("question", "expected"),
    [
        ("敬老院一共住了多少位老人", {QUANTITY}),
        ("图书漂流站有几个", {QUANTITY}),
        ("健步走活动是哪天举行的", {DATE}),
        ("消夏音乐会什么时候开始", {DATE}),
        ("报名截止是几号", {DATE}),
        ("防诈骗讲座是谁主讲的", {PERSON}),
        ("哪位医生来坐诊", {PERSON}),
        ("书法展在哪里展出", {PLACE}),
        ("志愿者去了哪个小区", {PLACE}),
        ("这次评选有哪些奖项", {LIST}),
        ("会议提出了哪三项措施", {LIST}),
        ("有哪些专家到场", {PERSON, LIST}),
        ("参观了哪些地方", {PLACE, LIST}),
        ("垃圾分类", set()),
        ("社区食堂的菜单", set()),
    ],
)
def test_asked_kinds(question: str, expected: set[str]) -> None:
    assert asked_kinds(question) == expected


@pytest.mark.parametrize(
    ("text", "kind", "answer"),
    [
        ("共有32名志愿者参加。", QUANTITY, "32名"),
        ("现场发放宣传册三百余份。", QUANTITY, "三百余份"),
        ("活动于7月15日下午在广场举行。", DATE, "7月15日下午"),
        ("报名请在本月底前完成。", DATE, "本月底"),
        ("九月二十日，居委会召开会议。", DATE, "九月二十日"),
        ("讲座由社区医院主任张晓明主讲。", PERSON, "张晓明"),
        ("书法作品在文化活动中心二楼展厅展出。", PLACE, "文化活动中心"),
        ("志愿者走进长风公园居民区。", PLACE, "长风公园居民区"),
        ("会议提出：一、加强巡查；二、完善台账。", LIST, "一、"),
        ("推荐书目有《城市记忆》《弄堂往事》。", LIST, "《城市记忆》《"),
    ],
)
def test_answer_spans(text: str, kind: str, answer: str) -> None:
    spans = answer_spans(text, [kind], TOKENIZER.is_word)
    start = text.index(answer)
    # The span found overlaps the answer (where a place name starts is not always clear-cut).
    assert any(s < start + len(answer) and start < e for s, e, _ in spans), [text[s:e] for s, e, _ in spans]


@pytest.mark.parametrize(
    ("text", "kind"),
    [
        ("这家老字号已有超过1600年的历史。", DATE),  # a duration, not a date
        ("2020年5月12日举行。", QUANTITY),  # a date, not an amount
        ("大家积极参与，气氛热烈。", PERSON),
        ("居民们纷纷点赞。", LIST),
    ],
)
def test_no_answer_spans(text: str, kind: str) -> None:
    assert answer_spans(text, [kind], TOKENIZER.is_word) == []


WEIGHTS = {"健步走": 3.0, "活动": 1.0}

# The answering sentence repeats fewer of the question's words than another one.
BODY_DATE = (
    "为倡导健康生活，街道工会组织健步走活动，吸引众多职工参与健步走活动。"
    "今年的比赛定在6月18日上午，地点在滨江绿地。"
    "健步走活动结束后，大家纷纷表示收获很大。"
)
BODY_COUNT = (
    "社区开展旧衣回收活动，居民热情很高。"
    "旧衣回收点设在居委会门口，旧衣回收活动持续一周。"
    "据统计，本次共回收旧衣物420件。"
)
BODY_PERSON = (
    "防诈骗讲座在社区学校举行，讲座内容丰富。主讲人是派出所民警李建国，他结合案例讲解了常见骗局。居民们表示讲座很实用。"
)
BODY_LIST = "街道召开安全生产会议，会议提出三点要求：\n一、落实责任；\n二、加强巡查；\n三、及时整改。"


@pytest.mark.parametrize(
    ("question", "body", "weights", "answer"),
    [
        ("健步走活动是哪天", BODY_DATE, WEIGHTS, "6月18日"),
        ("旧衣回收活动一共回收了多少件", BODY_COUNT, {"旧衣": 3.0, "回收": 2.0, "活动": 1.0}, "420件"),
        ("防诈骗讲座是谁讲的", BODY_PERSON, {"防诈骗": 3.0, "讲座": 2.0}, "李建国"),
        ("安全生产会议提出了哪些要求", BODY_LIST, {"安全生产": 3.0, "会议": 1.0, "要求": 1.0}, "一、落实责任"),
    ],
)
def test_snippet_prefers_the_answer(question: str, body: str, weights: dict[str, float], answer: str) -> None:
    plain = best_snippet(body, weights, limit=200)
    asked = best_snippet(body, weights, limit=200, kinds=asked_kinds(question), tools=TOKENIZER)
    assert answer not in plain.text  # the question's words alone pick another passage
    assert answer in asked.text and len(asked.text) <= 200
    assert asked.highlights  # the matched words are still marked


def test_snippet_answer_in_a_caption() -> None:
    body = "重阳节前夕，社区举办敬老茶话会。敬老茶话会上，老人们欢聚一堂。"
    captions = ["社区主任王丽华为老人送上敬老茶话会的礼物"]
    kinds = asked_kinds("敬老茶话会是谁组织的")
    snippet = best_snippet(body, {"敬老": 2.0, "茶话会": 3.0}, captions, kinds=kinds, tools=TOKENIZER)
    assert "王丽华" in snippet.text


def test_long_snippet_is_cut_around_the_answer() -> None:
    filler = "，".join(["居民们积极参与并提出了很多建议"] * 8)
    body = f"社区议事会召开。{filler}。议事会最终确定在10月9日启动加装电梯工程，{filler}。"
    kinds = asked_kinds("加装电梯哪天开工")
    snippet = best_snippet(body, {"议事会": 3.0, "加装电梯": 3.0}, kinds=kinds, tools=TOKENIZER)
    assert "10月9日" in snippet.text and "加装电梯" in snippet.text and len(snippet.text) <= 200


def test_snippet_without_a_question_kind_is_unchanged() -> None:
    body = "开头" * 150 + "关键的积水点改造在这里。" + "结尾" * 150
    snippet = best_snippet(body, {"积水点": 5.0, "改造": 3.0}, limit=200, tools=TOKENIZER)
    assert len(snippet.text) <= 200 and "积水点改造" in snippet.text


@pytest.mark.parametrize(
    ("names", "text", "term", "marked"),
    [
        ((), "王为人民服务的故事", "王为", True),  # 王为 | 人民: a word of its own
        (("王为人",), "社区志愿者王为人很热心", "王为", False),  # inside the name 王为人
        ((), "居民王为人很热心", "为人", False),  # 王为 | 人
        (("芷江西路街道", "芷江西路"), "芷江西路街道召开会议", "芷江西路", True),  # a dictionary word inside
        ((), "这是一场演出", "是一", False),  # across two words: 这是 | 一场
        ((), "天山路街道开展活动", "路街", False),
    ],
)
def test_highlights_keep_to_word_boundaries(names: tuple[str, ...], text: str, term: str, marked: bool) -> None:
    tools = Tokenizer(names)
    spans = find_highlights(text, [term], tools)
    assert bool(spans) is marked, tools.words(text)
    for start, end in spans:
        assert text[start:end] == term
