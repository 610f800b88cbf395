"""The answer path's ranking parts: the bigram field against rank-bm25, proximity, near-duplicates.

The bigram field must score exactly as rank-bm25's BM25Okapi run on the same bigram tokens
(several segments, terms in most documents, repeated and unknown query bigrams); the
proximity feature must prefer documents whose matched words stand together; near-identical
articles must come back as one result that says how many more there are.
"""

from __future__ import annotations

import itertools
import shutil
from pathlib import Path

import numpy as np
import pytest
from corpora import CORPUS
from rank_bm25 import BM25Okapi

from index.bigram import (
    BigramIndex,
    BigramSegment,
    bigram_stream,
    bigram_text,
    build_bigram_segment,
    document_bigrams,
    query_bigrams,
    text_occurrences,
)
from index.bm25 import BM25Params
from index.build import build_index
from index.neardup import collapse, signature, signatures, similarity
from index.ranking import proximity, window_coverage
from index.search import SearchEngine
from index.settings import IndexParams, SearchSettings

RTOL = 1e-9

TEXTS = [
    "社区卫生服务中心开展义诊活动，居民排队测血压。",
    "垃圾分类志愿者在小区门口指导居民分类投放。",
    "社区居民参加垃圾分类知识竞赛，志愿者讲解分类方法。",
    "",
    "天山路街道召开社区代表会议，讨论加装电梯。",
    "加装电梯，加装电梯，居民代表讨论电梯费用分摊。",
    "义诊活动结束后，社区卫生服务中心回访居民。Hello 2024",
    "社区社区社区社区",
] * 3 + ["只在这里出现的内容"]


def bigram_tokens(text: str) -> list[str]:
    ids, _ = bigram_stream(text)
    return [bigram_text(int(c)) for c in ids]


def test_bigram_stream_takes_pairs_of_chinese_characters_with_offsets() -> None:
    ids, positions = bigram_stream("垃圾分类，ok好的")
    assert [bigram_text(int(c)) for c in ids] == ["垃圾", "圾分", "分类", "好的"]
    assert positions.tolist() == [0, 1, 2, 7]
    assert query_bigrams(["垃圾分类", "分类"]) == query_bigrams(["垃圾分类"])


def test_bigram_field_scores_exactly_as_rank_bm25_on_bigram_tokens() -> None:
    docs = [document_bigrams([(t, 1)]) for t in TEXTS]
    reference = BM25Okapi([bigram_tokens(t) for t in TEXTS])
    for cuts in ([], [5], [3, 11, 20]):
        bounds = [0, *cuts, len(docs)]
        segments = [build_bigram_segment(docs[a:b], a) for a, b in itertools.pairwise(bounds)]
        field = BigramIndex(segments, BM25Params())
        for query in ("垃圾分类志愿者", "社区社区", "加装电梯费用", "未知词语", "社区卫生服务中心义诊"):
            tokens = bigram_tokens(query)
            codes = [int(c) for c in bigram_stream(query)[0]]  # repeats kept, as rank-bm25 counts them
            expected = np.asarray(reference.get_scores(tokens), dtype=np.float64)
            np.testing.assert_allclose(field.scores(codes), expected, rtol=RTOL, atol=1e-12)


def test_bigram_field_survives_the_disk(tmp_path: Path) -> None:
    docs = [document_bigrams([(t, 1)]) for t in TEXTS]
    build_bigram_segment(docs, 0).save(tmp_path)
    loaded = BigramIndex([BigramSegment.load(tmp_path, 0)], BM25Params())
    fresh = BigramIndex([build_bigram_segment(docs, 0)], BM25Params())
    codes = query_bigrams(["垃圾分类", "社区"])
    np.testing.assert_array_equal(loaded.scores(codes), fresh.scores(codes))
    weighted = document_bigrams([("垃圾分类", 3), ("居民参加垃圾分类", 1)])
    assert dict(zip(map(bigram_text, weighted.terms.tolist()), weighted.tfs.tolist(), strict=True))["垃圾"] == 4


def test_text_occurrences_find_every_offset_of_each_query_bigram() -> None:
    codes = query_bigrams(["垃圾", "志愿"])
    found = text_occurrences(["垃圾垃圾，志愿者", "没有", "志愿"], codes)
    rows = sorted(zip(found.doc.tolist(), found.term.tolist(), found.position.tolist(), strict=True))
    assert rows == [(0, 0, 0), (0, 0, 2), (0, 1, 5), (2, 1, 0)]


def test_window_coverage_rewards_query_words_standing_together() -> None:
    docs = [
        "垃圾分类的志愿者来了。" + "其他内容" * 30,
        "垃圾问题" + "其他内容" * 30 + "分类志愿者",
        "只有志愿者",
    ]
    segment = build_bigram_segment([document_bigrams([(t, 1)]) for t in docs], 0)
    field = BigramIndex([segment], BM25Params())
    codes = query_bigrams(["垃圾分类", "志愿者"])
    weights = np.ones(len(codes))
    coverage = window_coverage(text_occurrences(docs, codes), weights, 3, window=20)
    assert coverage[0] == pytest.approx(1.0)
    assert coverage[2] == pytest.approx(2 / len(codes))
    assert coverage[2] < coverage[1] < coverage[0]
    # Weighted by idf: 志愿/愿者 are in every document, so they count least.
    weighted = proximity(docs, field, codes, window=20)
    assert weighted[0] == pytest.approx(1.0) and weighted[2] < coverage[2]
    assert proximity(docs, field, [], window=20).tolist() == [0.0, 0.0, 0.0]


def test_proximity_reorders_candidates_with_the_same_words(tmp_path: Path) -> None:
    import json

    # Different filler, so the two are not folded as near-duplicates.
    filler_a = "。".join(f"第{i}段关于天气和交通的普通文字" for i in range(12))
    filler_b = "。".join(f"其{i}则有关公园与图书馆的说明" for i in range(12))
    records = [
        {"id": "apart", "date": "2023-01-01", "text": "电梯加装进展。" + filler_a + "。居民代表会议讨论费用"},
        {"id": "together", "date": "2023-01-01", "text": "居民代表会议讨论电梯加装费用。" + filler_b},
    ]
    records += [{"id": f"x{i}", "date": "2023-01-02", "text": f"公园绿化改造完成第{i}期。"} for i in range(10)]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "news.jsonl").write_text("\n".join(json.dumps(r, ensure_ascii=False) for r in records), "utf-8")
    build_index(corpus, tmp_path / "index", IndexParams())
    question = "居民代表会议讨论电梯加装费用"
    near = SearchEngine.open(tmp_path / "index")
    assert near.search(question).results[0].article.id == "together"
    scores = {r.article.id: r.score for r in near.search(question).results}
    flat = SearchEngine.open(tmp_path / "index", SearchSettings(proximity_weight=0.0))
    flat_scores = {r.article.id: r.score for r in flat.search(question).results}
    assert scores["together"] - scores["apart"] > flat_scores["together"] - flat_scores["apart"]


def test_minhash_similarity_tells_reprints_from_other_stories() -> None:
    story = "天山路街道近日召开居民代表大会，审议加装电梯方案，共有八十名居民代表参加会议，会上通过了费用分摊办法。"
    reprint = "【社区晨报】" + story.replace("近日", "日前") + "（记者 王明）"
    other = "芷江西路街道开展垃圾分类宣传，志愿者在小区门口指导居民分类投放，居民纷纷点赞，活动持续一周。"
    assert similarity(signature(story), signature(reprint)) >= 0.5
    assert similarity(signature(story), signature(other)) < 0.2
    assert similarity(signature(""), signature("")) == 0.0
    groups = collapse(signatures([story, other, reprint, "", ""]))
    assert [(g.position, g.members) for g in groups] == [(0, [2]), (1, []), (3, []), (4, [])]


def _archive_with_reprints(directory: Path) -> None:
    import json

    story = (
        "长宁区今日举行社区义诊周启动仪式，三甲医院专家走进十个街道，为老年居民免费测量血压血糖，"
        "现场还开展了健康讲座和用药咨询，预计服务居民两千人次。"
    )
    records = [
        {"id": "news-a", "date": "2023-05-01", "text": story},
        {"id": "news-b", "date": "2023-05-01", "text": "（晨报讯）" + story + "记者李华报道。"},
        {"id": "news-c", "date": "2023-05-02", "text": "据悉，" + story},
        {"id": "news-d", "date": "2023-05-03", "text": "社区义诊周期间，卫生服务中心同时开展疫苗接种预约。"},
    ]
    records += [
        {"id": f"news-x{i}", "date": "2023-05-04", "text": f"第{i}条无关新闻：公园绿化改造完成，新增座椅{i}张。"}
        for i in range(12)
    ]
    directory.mkdir(parents=True)
    (directory / "news.jsonl").write_text(
        "\n".join(json.dumps(r, ensure_ascii=False) for r in records), encoding="utf-8"
    )


def test_search_folds_near_identical_articles_into_one_result(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    _archive_with_reprints(corpus)
    build_index(corpus, tmp_path / "index", IndexParams())
    engine = SearchEngine.open(tmp_path / "index")
    response = engine.search("社区义诊周 专家 测量血压", limit=5)
    ids = [r.article.id for r in response.results]
    story = {"news-a", "news-b", "news-c"}
    assert len(story & set(ids)) == 1, ids
    first = next(r for r in response.results if r.article.id in story)
    assert {a.id for a in first.similar} | {first.article.id} == story
    assert first.to_dict()["similar"] == 2
    folded = {a.id for r in response.results for a in r.similar}
    assert not folded & set(ids)  # a folded article is not shown again
    off = SearchEngine.open(tmp_path / "index", SearchSettings(near_duplicate_similarity=1.01))
    assert story <= {r.article.id for r in off.search("社区义诊周 专家 测量血压", limit=5).results}


def test_bundled_corpus_bigram_field_matches_rank_bm25(tmp_path: Path) -> None:
    from index.corpus import load_corpus
    from index.indexed_text import document_bigram_bag

    shutil.copytree(CORPUS, tmp_path / "corpus")
    params = IndexParams()
    build_index(tmp_path / "corpus", tmp_path / "index", params)
    engine = SearchEngine.open(tmp_path / "index")
    articles = load_corpus(tmp_path / "corpus").articles
    tokens = []
    for article in articles:
        bag = document_bigram_bag(article, params)
        tokens.append([bigram_text(int(c)) for c, f in zip(bag.terms, bag.tfs, strict=True) for _ in range(int(f))])
    reference = BM25Okapi(tokens)
    for question in ("垃圾分类", "社区义诊的时间", "加装电梯"):
        codes = engine.query_codes(engine.analyze(question)[0], question)
        expected = reference.get_scores([bigram_text(c) for c in codes])
        np.testing.assert_allclose(engine.index.bigrams.scores(codes), expected, rtol=RTOL, atol=1e-12)


def test_terminal_and_bot_replies_say_how_many_similar_reports(tmp_path: Path) -> None:
    from bot.cli.terminal import ChatSession
    from bot.core import replies

    corpus = tmp_path / "corpus"
    _archive_with_reprints(corpus)
    build_index(corpus, tmp_path / "index", IndexParams())
    engine = SearchEngine.open(tmp_path / "index")
    out = ChatSession(engine).handle("社区义诊周 专家 测量血压")
    assert "另有 2 篇相似报道" in out
    response = engine.search("社区义诊周 专家 测量血压")
    html = replies.answer_reply(response, 1, 3).html
    assert "另有 2 篇相似报道" in html
    assert out.count("相似报道") == 1


def test_question_words_never_reach_the_bigram_field(engine: SearchEngine) -> None:
    tokens, problem = engine.analyze("社区义诊是哪天举办的")
    assert problem is None and "哪天" not in tokens
    codes = engine.query_codes(tokens, "社区义诊是哪天举办的")
    texts = {bigram_text(c) for c in codes}
    assert {"社区", "区义", "义诊"} <= texts
    # No bigram spans a removed word or consists of question words.
    assert not texts & {"诊是", "是哪", "哪天", "天举", "的"}
    asked = engine.analyze("在哪届运动会上获得几枚金牌")[0]
    assert "哪届" not in asked and "几枚" not in asked and "金牌" in asked


def test_bags_of_many_texts_in_one_pass_equal_each_text_alone() -> None:
    from index.bigram import bigram_bags, bigram_segment_of, bigram_segment_of_blocks

    texts = [*TEXTS, "", "没有", "a1", TEXTS[0] + "\n" + TEXTS[1]]
    lengths, terms, tfs = bigram_bags(texts)
    alone = [document_bigrams([(t, 1)]) for t in texts]
    assert lengths.tolist() == [d.terms.shape[0] for d in alone]
    assert terms.tolist() == [c for d in alone for c in d.terms.tolist()]
    assert tfs.tolist() == [f for d in alone for f in d.tfs.tolist()]
    built, flat = build_bigram_segment(alone, 5), bigram_segment_of(lengths, terms, tfs, 5)
    for name in ("bg_doc_len", "bg_terms", "bg_indptr", "bg_docs", "bg_tfs"):
        assert getattr(flat, name).tolist() == getattr(built, name).tolist(), name
    # Documents gathered in another order (and one twice), as a build with repeated texts does.
    # Bags in blocks (a build's chunks), one block empty, some bags used by no document.
    half = len(texts) // 2
    blocks = [bigram_bags(part) for part in (texts[:half], [], texts[half:])]
    order = [3, 0, 0, len(texts) - 1, 2, half + 1, half + 1]
    got = bigram_segment_of_blocks(blocks, 0, order)
    want = build_bigram_segment([alone[i] for i in order], 0)
    for name in ("bg_doc_len", "bg_terms", "bg_indptr", "bg_docs", "bg_tfs"):
        assert getattr(got, name).tolist() == getattr(want, name).tolist(), name
