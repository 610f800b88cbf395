"""Splitting the bundled sample issues into articles: exact headlines, repaired sentences, captions."""

from __future__ import annotations

import pytest
from corpora import CORPUS

from index.issue_parser import parse_issue, repair_page_breaks, split_blocks


def _articles(stem: str):  # type: ignore[no-untyped-def]
    path = next(CORPUS.glob(f"{stem}_*.txt"))
    return parse_issue(path.read_text(encoding="utf-8"), path.stem)


EXPECTED_TITLES = {
    "000": [
        "探索街道特色 把“长板做长、亮点擦亮” 姜鸣一行调研芷江西路街道宣传思想文化和精神文明建设工作",
        "市、区人大代表检查芷江西社区垃圾分类情况",
        "“芷心工作坊” 为社区工作者减负赋能",
        "以“六个一”举措持续推进“四史”学习教育",
    ],
    "001": [
        "聚焦“零距离家园”建设 助推社区新发展 ——街道“书记工作室”举办第二季活动",
        "坚持以职工为中心，竭诚服务职工群众 街道工会召开二届三次代表大会",
        "迎接新中国成立70周年 老字号企业人同绣国旗",
        "专场活动来助阵 社区居民乐欢颜",
    ],
    "002": [
        "筑牢党建“主”阵地 激发时代“心”动力 花木街道主题教育向深向实开展",
        "狠抓落实 常态长效 花木街道组织开展餐饮行业用气安全“回头看”行动",
        "成都市锦江区参访团到联洋社区参观学习",
        "联洋二 | 感受红色文化",
        "培花一 | 了解处理垃圾",
        "东城七 | 参观舞蹈中心",
        "牡丹四 | 体验农家乐趣",
    ],
    "003": [
        "区领导到街道开展“不忘初心、牢记使命”主题教育走访",
        "初心如磐 使命在肩 2019年芷江西路街道办事处与街道总工会联席会议(扩大会议)顺利召开",
        "静安区首家街道科协成立 “芷江西社区科普书院”揭牌",
        "沉到一线找问题 群策群力抓整改 街道召开“不忘初心、牢记使命”主题教育问题整改专题部署会",
        "纠错有奖 欢迎大家来做“啄木鸟”",
    ],
    "004": [
        "加大宣传 形成合力 抓好整改 街道召开 2020 年全国文明城区创评工作推进会暨培训会，确保创评成功",
        "王为人检查天山积水点改造",
        "“四史”教育是党员的重要必修课 街道党工委部署“四史”学习教育",
    ],
}


@pytest.mark.parametrize("stem", sorted(EXPECTED_TITLES))
def test_headlines_of_each_sample_issue(stem: str) -> None:
    assert [a.title for a in _articles(stem)] == EXPECTED_TITLES[stem]


REPAIRED = {
    "000": [
        "加快推动瓶颈破解，有效实现垃圾治理减量化",  # across a page break with a caption between
        "根据区委“四史”学习教育领导小组办公室的相关要求，街道各基层党组织开展",
        "书籍是传承历史文化的载体",  # a word cut by a single blank line
    ],
    "001": [
        "提高学习理论知识的主动性",
        "高效解决社区矛盾”以及",
        "代表们踊跃发言，积极建言献策",
        "唱响中国自主品牌",
    ],
    "002": [
        "带着责任学、带着问题学",
        "坚决杜绝燃气安全事故的发生，确保辖区安全稳定。",
        "详细听取了工作人员的介绍，随后",
        "气氛非常活跃。",
    ],
    "003": [
        "主题教育活动的开展情况并慰问居委会全体干部。",
        "为全区推进街镇层面的联席会议制度建设提供了很好的样板示范",
        "二要居民区党组织要充分发挥党建引领作用",
        "三要在社区治理中遇到的问题，各职能部门要主动对接居民区",
    ],
    "004": [
        "任务要清。各职能部门、行政单位",
        "对要修、要补、要加、要改的问题抓紧解决",
        "要继续深入学习习近平新时代中国特色社会主义思想，结合",
    ],
}


@pytest.mark.parametrize("stem", sorted(REPAIRED))
def test_sentences_cut_by_page_breaks_are_repaired(stem: str) -> None:
    bodies = "\n".join(a.body for a in _articles(stem))
    for sentence in REPAIRED[stem]:
        assert sentence in bodies


def test_captions_are_kept_apart_from_the_running_text() -> None:
    rubbish = _articles("000")[1]
    assert rubbish.captions == ["市、区人大代表仔细检查社区当前垃圾分类情况"]
    assert "垃圾分类情况瓶颈" not in rubbish.body and "仔细检查社区当前" not in rubbish.body
    union = _articles("003")[1]
    assert union.captions == ["揭牌仪式"]
    assert "揭牌仪式" not in union.body


def test_mastheads_labels_and_qr_notices_are_not_articles() -> None:
    text = "\n".join(a.title + a.body for stem in EXPECTED_TITLES for a in _articles(stem))
    for noise in ("SHANGHAI COMMUNITY NEWS", "联合出版", "扫描二维码", "图片新闻", "要闻简讯", "自 / 家"):
        assert noise not in text


def test_bylines_sources_and_continuations() -> None:
    first = _articles("001")[0]
    assert first.byline == "通讯员 梁炜晶"
    assert first.subtitle == "——街道“书记工作室”举办第二季活动"
    assert "● 学习互鉴" in first.body.splitlines()  # a subheading stays inside its article
    assert _articles("000")[0].source == "党群工作办"
    four_histories = _articles("004")[2]
    assert four_histories.byline == "本报讯"
    assert any(p.startswith("又讯") for p in four_histories.body.splitlines())  # 又讯 continues the article
    assert not four_histories.body.startswith("本报讯")


def test_page_break_split_words_are_joined() -> None:
    raw = "标题一行\n\n这是正文，提高学习理\n\n论知识的主动性。\n\n(社区党建办)\n"
    articles = parse_issue(raw, "t")
    assert articles[0].headline == "标题一行"
    assert "提高学习理论知识的主动性。" in articles[0].body


def test_caption_between_page_breaks_is_lifted_out() -> None:
    raw = "标题\n\n正文开始，加快推动\n\n\n\n一张照片的说明\n\n瓶颈破解，取得成效。\n\n(街道)\n"
    blocks = repair_page_breaks(split_blocks(raw), frozenset())
    joined = next(b for b in blocks if "加快推动" in b.text)
    assert joined.text == "正文开始，加快推动瓶颈破解，取得成效。"
    assert joined.captions == ["一张照片的说明"]


def test_short_pipe_items_are_articles() -> None:
    raw = "联洋二 | 感受红色文化\n\n\n\n近日，居委组织党员参观。\n\n\n\n培花一 | 了解处理垃圾\n\n近日，志愿者参观。\n"
    assert [a.headline for a in parse_issue(raw, "t")] == ["联洋二 | 感受红色文化", "培花一 | 了解处理垃圾"]


def test_text_without_titles_still_yields_an_article() -> None:
    articles = parse_issue("只有一段正文，没有标题。这是第二句。", "t")
    assert len(articles) == 1
    assert articles[0].derived_headline
    assert articles[0].headline == "只有一段正文，没有标题"
