"""Our BM25 against rank-bm25's BM25Okapi itself: the same scores and the same top 10.

A synthetic corpus (always) exercises the corners: terms in more than half of the documents
(negative idf, floored at epsilon times the mean idf), repeated and unknown query terms, empty
documents and several segments. A few thousand real news articles from the shared benchmark
data (when present) check the whole product path: parallel segmentation, the index on disk,
and the engine's ranking.
"""

from __future__ import annotations

import itertools
import lzma
from collections import Counter
from pathlib import Path

import numpy as np
import pytest
from corpora import BENCH
from rank_bm25 import BM25Okapi

from index.article import Article
from index.bags import Segmenter
from index.bm25 import BM25Index, BM25Params, Int32Array, build_segment, postings_by_term, sums_by_run
from index.build import build_index
from index.corpus import load_corpus
from index.indexed_text import document_token_list
from index.search import SearchEngine
from index.segmenter import available_segmenters
from index.settings import IndexParams
from index.tokenize import Tokenizer

REAL_ARTICLES = 2000
REAL_QUERIES = 150
# rank-bm25 computes logarithms with math.log and sums the mean idf in another order than
# numpy: the scores agree to the last few bits, not bit for bit.
RTOL = 1e-9


def bags_of(documents: list[list[str]]) -> tuple[list[tuple[Int32Array, Int32Array]], dict[str, int]]:
    """Per-document (sorted term ids, counts) and the vocabulary they number."""
    vocabulary: dict[str, int] = {}
    bags = []
    for tokens in documents:
        counts = Counter(tokens)
        ids = np.array([vocabulary.setdefault(t, len(vocabulary)) for t in counts], dtype=np.int32)
        tfs = np.array(list(counts.values()), dtype=np.int32)
        order = np.argsort(ids)
        bags.append((ids[order], tfs[order]))
    return bags, vocabulary


def index_over(documents: list[list[str]], cuts: list[int]) -> tuple[BM25Index, dict[str, int]]:
    """Our index over the documents, split into segments at `cuts`."""
    bags, vocabulary = bags_of(documents)
    bounds = [0, *cuts, len(bags)]
    segments = [build_segment(bags[a:b], a) for a, b in itertools.pairwise(bounds)]
    return BM25Index(segments, len(vocabulary), BM25Params()), vocabulary


def assert_same_ranking(ours: BM25Index, reference: BM25Okapi, query_ids: list[int], query: list[str]) -> None:
    """Same scores for every document, and our top 10 is the reference's top 10."""
    expected = np.asarray(reference.get_scores(query), dtype=np.float64)
    got = ours.scores(query_ids)
    np.testing.assert_allclose(got, expected, rtol=RTOL, atol=1e-12)
    top = ours.top(query_ids, 10)
    best = np.sort(expected[expected > 0])[::-1][:10]
    # Compared by score so that documents tied in the last bits may come in either order.
    np.testing.assert_allclose([expected[d] for d, _ in top], best, rtol=RTOL)
    assert [s for _, s in top] == sorted((s for _, s in top), reverse=True)


def synthetic_documents(seed: int = 7, n_docs: int = 400) -> list[list[str]]:
    rng = np.random.default_rng(seed)
    words = [f"w{i}" for i in range(300)]
    # Zipf-like weights: the first few words end up in more than half of the documents.
    weights = 1.0 / np.arange(1, len(words) + 1) ** 1.1
    weights /= weights.sum()
    documents = []
    for number in range(n_docs):
        length = 0 if number % 97 == 0 else int(rng.integers(1, 80))
        documents.append([words[i] for i in rng.choice(len(words), size=length, p=weights)])
    documents.append(["w0"] * 5 + ["only-here"])
    return documents


def test_synthetic_corpus_scores_as_rank_bm25() -> None:
    documents = synthetic_documents()
    ours, vocabulary = index_over(documents, cuts=[150, 151, 330])
    reference = BM25Okapi(documents)
    negative = [w for w, n in Counter(t for d in documents for t in set(d)).items() if n > len(documents) / 2]
    assert negative, "the corpus should have terms in more than half of the documents"
    queries = [
        ["w0"],
        ["w0", "w1", "w2"],
        ["w5", "w5", "w17"],  # a repeated term counts twice
        ["w250", "unknown", "w3"],  # an unknown term adds nothing
        ["only-here", "w0"],
        negative,
        ["w" + str(i) for i in range(40, 60)],
    ]
    for query in queries:
        ids = [vocabulary[t] for t in query if t in vocabulary]
        assert_same_ranking(ours, reference, ids, query)


def test_idf_floor_and_parameters_follow_rank_bm25() -> None:
    documents = synthetic_documents(seed=3, n_docs=120)
    ours, vocabulary = index_over(documents, cuts=[60])
    reference = BM25Okapi(documents)
    for term, number in vocabulary.items():
        assert ours.term_idf(number) == pytest.approx(reference.idf[term], rel=RTOL, abs=1e-12)
    assert ours.avgdl == pytest.approx(reference.avgdl)
    tuned = BM25Index(ours.segments, len(vocabulary), BM25Params(k1=1.2, b=0.5, epsilon=0.1))
    tuned_reference = BM25Okapi(documents, k1=1.2, b=0.5, epsilon=0.1)
    query = ["w0", "w3", "w9", "w9"]
    assert_same_ranking(tuned, tuned_reference, [vocabulary[t] for t in query], query)


def test_top_on_an_empty_query_or_index() -> None:
    ours, _ = index_over(synthetic_documents(n_docs=50), cuts=[])
    assert ours.top([], 10) == []
    empty = BM25Index([], 0, BM25Params())
    assert empty.top([1, 2], 10) == []
    assert empty.scores([1]).shape == (0,)


@pytest.mark.parametrize("segmenter", available_segmenters())
def test_chunk_bags_are_the_counted_token_streams(segmenter: str) -> None:
    """A chunk's bags (each distinct word's tokens looked up once, counts expanded with arrays)
    against each article's token stream itself; the chunk's tokens in the order they first
    occur, which numbers the vocabulary."""
    tokenizer = Tokenizer(segmenter=segmenter)
    params = IndexParams()
    texts = [
        "记者从上海市气象局获悉，今天（8月16日）最高气温37℃。记者从上海市气象局获悉，明天有雷阵雨。",
        "芷江西路街道“芷心工作坊”开展垃圾分类宣传，COVID-19 疫苗接种点：静安区 No.3 社区中心 & 58.5%",
        "Ｆｕｌｌ－ｗｉｄｔｈ ＡＢＣ１２３，ok？ 原标题：上海发布 责任编辑：张三\n\n正文\t完",
    ]
    articles = [
        Article(id="a", headline=texts[0][:12], body=texts[1], street="芷江西路街道", captions=[texts[2]]),
        Article(id="b", headline="雷阵雨", body=texts[0] + texts[0], kicker="上海发布"),
        Article(id="c", headline="", body=""),
        Article(id="d", headline="垃圾分类", body=texts[2], subtitle=texts[1]),
    ]
    for _ in range(2):  # the second round answered from the word cache
        (chunk,) = list(Segmenter(articles, tokenizer, params, workers=1).__enter__())
        streams = [document_token_list(tokenizer, article, params) for article in articles]
        assert chunk.words == list(dict.fromkeys(itertools.chain.from_iterable(streams)))
        cuts = np.cumsum(chunk.lengths)[:-1]
        bags = zip(np.split(chunk.terms, cuts), np.split(chunk.tfs, cuts), strict=True)
        for stream, (terms, tfs) in zip(streams, bags, strict=True):
            assert list(terms) == sorted(terms)
            assert {chunk.words[t]: int(f) for t, f in zip(terms, tfs, strict=True)} == Counter(stream)


@pytest.mark.parametrize("largest", [(50_000, 200), (2**31 - 1, 2**22)], ids=["packed keys", "too wide to pack"])
def test_postings_by_term_against_a_stable_argsort(largest: tuple[int, int]) -> None:
    """Both ways of sorting postings (one packed key, or the term sort and a gather) against
    the plain definition: each term's postings in document order."""
    rng = np.random.default_rng(5)
    largest_term, largest_tf = largest
    bags = [np.unique(rng.integers(0, largest_term, size=rng.integers(0, 40))) for _ in range(3000)]
    lengths = np.array([b.shape[0] for b in bags], dtype=np.int64)
    terms = np.concatenate(bags).astype(np.int32)
    tfs = rng.integers(1, largest_tf, size=terms.shape[0]).astype(np.int32)
    order = np.argsort(terms, kind="stable")
    docs = np.repeat(np.arange(len(bags), dtype=np.int32), lengths)
    distinct, indptr, got_docs, got_tfs = postings_by_term([(terms, tfs, docs)], len(bags))
    # The same entries shuffled over three parts.
    mixed = rng.permutation(terms.shape[0])
    parts = [(terms[i], tfs[i], docs[i]) for i in np.array_split(mixed, [100, 5000])]
    for got, want in zip(postings_by_term(parts, len(bags)), (distinct, indptr, got_docs, got_tfs), strict=True):
        assert np.array_equal(got, want)
    assert np.array_equal(distinct, np.unique(terms))
    assert np.array_equal(np.diff(indptr), np.unique(terms, return_counts=True)[1])
    assert np.array_equal(got_docs, docs[order]) and np.array_equal(got_tfs, tfs[order])
    assert got_tfs.dtype == tfs.dtype and got_docs.dtype == np.int32 and distinct.dtype == np.int32


def test_sums_by_run_with_empty_runs_anywhere() -> None:
    values = np.array([1, 2, 3, 4, 5], dtype=np.uint8)
    assert sums_by_run(values, np.array([0, 3, 0, 2, 0, 0])).tolist() == [0, 6, 0, 9, 0, 0]
    assert sums_by_run(values, np.array([5])).tolist() == [15]
    assert sums_by_run(values[:0], np.array([0, 0])).tolist() == [0, 0]


# --- real articles ----------------------------------------------------------------------


def first_articles(count: int) -> list[bytes]:
    with lzma.open(BENCH / "news.jsonl.xz", "rb") as archive:
        return [line for line in itertools.islice(archive, count)]


@pytest.fixture(scope="module")
def real_index(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """An index of the first articles of the benchmark archive, built the product's way."""
    if not (BENCH / "news.jsonl.xz").exists():
        pytest.skip(f"no benchmark data at {BENCH}")
    directory = tmp_path_factory.mktemp("real")
    corpus = directory / "news.jsonl"
    corpus.write_bytes(b"".join(first_articles(REAL_ARTICLES)))
    index_dir = directory / "index"
    build_index(corpus, index_dir, IndexParams(), workers=2)
    return corpus, index_dir


def test_real_articles_rank_as_rank_bm25(real_index: tuple[Path, Path]) -> None:
    corpus, index_dir = real_index
    engine = SearchEngine.open(index_dir)
    loaded = load_corpus(corpus)
    params = engine.index.params
    tokenizer = engine.index.tokenizer
    # Tokens computed here, one article at a time: the index's own bags are not trusted.
    documents = [document_token_list(tokenizer, article, params) for article in loaded.articles]
    assert [a.id for a in engine.index.articles()] == [a.id for a in loaded.articles]
    reference = BM25Okapi(documents, k1=params.k1, b=params.b, epsilon=params.epsilon)
    term_ids = engine.index.term_ids
    questions = (BENCH / "queries.txt").read_text(encoding="utf-8").splitlines()[:REAL_QUERIES]
    checked = 0
    for question in questions:
        tokens, problem = engine.analyze(question)
        if problem:
            continue
        ids = [term_ids[t] for t in tokens if t in term_ids]
        assert_same_ranking(engine.index.bm25, reference, ids, tokens)
        expected = np.asarray(reference.get_scores(tokens))
        raw = engine.raw_top(question, 10)
        np.testing.assert_allclose([s for _, s in raw], [expected[d] for d, _ in raw], rtol=RTOL)
        checked += 1
    assert checked >= REAL_QUERIES // 2


def test_real_articles_bags_match_the_tokens(real_index: tuple[Path, Path]) -> None:
    corpus, index_dir = real_index
    engine = SearchEngine.open(index_dir)
    loaded = load_corpus(corpus)
    terms = engine.index.terms_by_id()
    for doc in range(0, len(loaded.articles), 37):
        segment, local = engine.index.bm25.segment_of(doc)
        ids, counts = segment.bag(local)
        stored = {terms[t]: int(c) for t, c in zip(ids.tolist(), counts.tolist(), strict=True)}
        expected = Counter(document_token_list(engine.index.tokenizer, loaded.articles[doc], engine.index.params))
        assert stored == dict(expected)


def test_real_articles_bigram_field_scores_as_rank_bm25(real_index: tuple[Path, Path]) -> None:
    """The bigram field against BM25Okapi over bigram tokens computed here from the text."""
    from index.bigram import bigram_stream, bigram_text
    from index.indexed_text import weighted_text_parts
    from index.normalize import for_matching

    corpus, index_dir = real_index
    engine = SearchEngine.open(index_dir)
    params = engine.index.params
    documents = []
    for article in load_corpus(corpus).articles:
        # The weighted parts joined as the index joins them; a bigram never spans two parts.
        parts = [for_matching(text) for text, weight in weighted_text_parts(article, params) for _ in range(weight)]
        documents.append([bigram_text(int(c)) for c in bigram_stream("\n".join(parts))[0]])
    reference = BM25Okapi(documents, k1=params.k1, b=params.b, epsilon=params.epsilon)
    questions = (BENCH / "queries.txt").read_text(encoding="utf-8").splitlines()[:REAL_QUERIES]
    checked = 0
    for question in questions:
        tokens, problem = engine.analyze(question)
        codes = engine.query_codes(tokens, question)
        if problem or not codes:
            continue
        expected = np.asarray(reference.get_scores([bigram_text(c) for c in codes]), dtype=np.float64)
        np.testing.assert_allclose(engine.index.bigrams.scores(codes), expected, rtol=RTOL, atol=1e-12)
        checked += 1
    assert checked >= REAL_QUERIES // 2
