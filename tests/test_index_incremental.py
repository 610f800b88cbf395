"""Incremental indexing: rebuilds reuse what did not change, a published issue scores exactly as
in a full rebuild, and a damaged or foreign index is reported and rebuilt."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
from corpora import CORPUS, HELD_OUT, corpus_without_held_out, index_then_publish

from index.append import add_articles
from index.article import Article
from index.article_file import ArticleFile
from index.bm25 import SEGMENT_ARRAYS
from index.build import build_index
from index.corpus import load_corpus, load_jsonl_file
from index.index_files import META, IndexUnusable
from index.loaded_index import LoadedIndex
from index.maintenance import open_engine
from index.publish import parse_upload, publish_issue
from index.search import SearchEngine
from index.settings import IndexParams, SearchSettings
from index.staleness import index_is_current

QUESTIONS = ["垃圾分类", "社区义诊", "天山路街道 老年人", "志愿者服务活动", "积水点改造工程", "外滩 防疫"]


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A private copy of the bundled corpus."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    return target


def scores_by_id(engine: SearchEngine, question: str) -> dict[str, float]:
    """Every article's BM25 score for the question, by article id."""
    tokens, _ = engine.analyze(question)
    ids = engine.index.term_ids
    scores = engine.index.bm25.scores([ids[t] for t in tokens if t in ids])
    return {article.id: float(scores[doc]) for doc, article in enumerate(engine.index.articles())}


def test_rebuild_reuses_every_unchanged_article(corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    first = build_index(corpus, index_dir, IndexParams())
    assert first.segmented == first.n_articles > 0 and first.reused == 0
    before = {q: scores_by_id(SearchEngine.open(index_dir), q) for q in QUESTIONS}
    vocabulary = (index_dir / "vocab.txt").read_text(encoding="utf-8")

    again = build_index(corpus, index_dir, IndexParams(), keep_unchanged=False)
    assert (again.segmented, again.reused) == (0, first.n_articles)
    assert (index_dir / "vocab.txt").read_text(encoding="utf-8") == vocabulary
    engine = SearchEngine.open(index_dir)
    assert {q: scores_by_id(engine, q) for q in QUESTIONS} == before


def test_rebuild_segments_only_the_changed_issue(corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    build_index(corpus, index_dir, IndexParams())
    changed = corpus / "001_577c6290a937f471.txt"
    changed.write_text(changed.read_text(encoding="utf-8") + "\n外滩街道新增一处社区食堂，老人用餐更方便。\n", "utf-8")
    changed_articles = [a for a in load_corpus(corpus).articles if a.issue == "001_577c6290a937f471"]

    report = build_index(corpus, index_dir, IndexParams())
    assert 0 < report.segmented <= len(changed_articles)
    assert report.reused == report.n_articles - report.segmented
    fresh = tmp_path / "fresh"
    build_index(corpus, fresh, IndexParams())
    reusing, fresh_engine = SearchEngine.open(index_dir), SearchEngine.open(fresh)
    for question in [*QUESTIONS, "社区食堂 老人用餐"]:
        reused, rebuilt = scores_by_id(reusing, question), scores_by_id(fresh_engine, question)
        assert reused.keys() == rebuilt.keys()
        np.testing.assert_allclose(list(reused.values()), [rebuilt[k] for k in reused], rtol=1e-12)


def test_unchanged_rebuild_links_the_previous_arrays(corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    build_index(corpus, index_dir, IndexParams())
    old = {name: np.load(index_dir / "seg-000" / f"{name}.npy") for name in SEGMENT_ARRAYS}
    # Not kept as it is (tests/test_index_kept.py): rebuilt, linking the unchanged arrays.
    report = build_index(corpus, index_dir, IndexParams(), keep_unchanged=False)
    assert not report.kept and report.segmented == 0
    for name, array in old.items():
        assert np.array_equal(np.load(index_dir / "seg-000" / f"{name}.npy"), array)
    assert not list(tmp_path.glob("index.*")), "no staging or old directory is left behind"


def test_parallel_build_equals_a_single_process_build(tmp_path: Path) -> None:
    # Enough articles for the worker pool, made of the bundled text (and some repeated texts).
    articles = load_corpus(CORPUS).articles
    lines = []
    for number in range(620):
        article = articles[number % len(articles)]
        body = article.body if number % 5 else article.body + f"\n第{number}号补充说明。"
        lines.append(json.dumps({"id": f"a{number}", "text": body, "date": "2020-06"}, ensure_ascii=False))
    archive = tmp_path / "many.jsonl"
    archive.write_text("\n".join(lines) + "\n", encoding="utf-8")

    serial = build_index(archive, tmp_path / "serial", IndexParams(), workers=1)
    parallel = build_index(archive, tmp_path / "parallel", IndexParams(), workers=2)
    assert serial.n_articles == parallel.n_articles == 620
    for name in ("vocab.txt", "userdict.txt"):
        assert (tmp_path / "serial" / name).read_bytes() == (tmp_path / "parallel" / name).read_bytes()
    for name in [*SEGMENT_ARRAYS, "offsets"]:
        a = np.load(tmp_path / "serial" / "seg-000" / f"{name}.npy")
        b = np.load(tmp_path / "parallel" / "seg-000" / f"{name}.npy")
        assert a.dtype == b.dtype and np.array_equal(a, b), name


def write_archive(path: Path, articles: list[Article]) -> None:
    """Articles as a JSONL archive (records without titles or streets teach the segmenter nothing)."""
    records = [{"id": a.id, "text": a.body, "date": a.date} for a in articles]
    path.write_text("".join(json.dumps(r, ensure_ascii=False) + "\n" for r in records), encoding="utf-8")


def test_published_segment_scores_as_a_full_rebuild(tmp_path: Path) -> None:
    # Scores equal a full rebuild's exactly when publishing teaches the segmenter no word that
    # older articles contain (those are not segmented again until the next rebuild).
    articles = load_corpus(CORPUS).articles
    held_out = [a for a in articles if a.issue == HELD_OUT.removesuffix(".txt")]
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    write_archive(corpus / "a.jsonl", [a for a in articles if a not in held_out])
    index_dir = tmp_path / "index"
    build_index(corpus, index_dir, IndexParams())

    write_archive(corpus / "b.jsonl", held_out)
    issue, new_articles, _ = load_jsonl_file(corpus / "b.jsonl", {})
    add_articles(index_dir, issue, new_articles, corpus)
    published = SearchEngine.open(index_dir)
    assert len(published.index.bm25.segments) == 2
    assert index_is_current(index_dir, corpus, IndexParams()) == (True, "")

    rebuilt_dir = tmp_path / "rebuilt"
    build_index(corpus, rebuilt_dir, IndexParams())
    rebuilt = SearchEngine.open(rebuilt_dir)
    assert len(rebuilt.index.bm25.segments) == 1
    for question in [*QUESTIONS, *(a.body[:30] for a in held_out)]:
        ours, full = scores_by_id(published, question), scores_by_id(rebuilt, question)
        assert ours.keys() == full.keys()
        np.testing.assert_allclose([ours[k] for k in full], list(full.values()), rtol=1e-12, atol=0)
        assert [published.index.article(d).id for d, _ in published.raw_top(question, 10)] == [
            rebuilt.index.article(d).id for d, _ in rebuilt.raw_top(question, 10)
        ]


def test_published_issue_is_searchable_at_once(tmp_path: Path) -> None:
    corpus = corpus_without_held_out(tmp_path)
    index_dir = tmp_path / "index"
    before = build_index(corpus, index_dir, IndexParams())
    engine = SearchEngine.open(index_dir)
    issue, articles, text = parse_upload(
        (CORPUS / HELD_OUT).read_bytes(), HELD_OUT, "天山路街道", "2020-06", "长宁区", "天山社区晨报"
    )
    publish_issue(corpus, index_dir, issue, articles, text)

    # The loaded engine keeps answering from what it loaded; a reload sees the new segment.
    assert engine.index.n_docs == before.n_articles
    published = SearchEngine.open(index_dir)
    assert published.index.n_docs == before.n_articles + len(articles)
    assert index_is_current(index_dir, corpus, IndexParams()) == (True, "")
    for article in articles:
        assert article.id in [published.index.article(d).id for d, _ in published.raw_top(article.title, 10)]
        assert published.article(article.id) == article
    assert published.find_issue(issue.id) is not None


def test_index_of_another_version_is_reported_and_rebuilt(corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    build_index(corpus, index_dir, IndexParams())
    meta = json.loads((index_dir / META).read_text(encoding="utf-8"))
    meta["format_version"] = 999
    (index_dir / META).write_text(json.dumps(meta), encoding="utf-8")

    assert index_is_current(index_dir, corpus, IndexParams()) == (False, "index was written by another version")
    with pytest.raises(IndexUnusable, match="version 999"):
        LoadedIndex(index_dir)
    engine, report = open_engine(corpus, index_dir, IndexParams(), SearchSettings())
    assert report.built and report.reason == "index was written by another version"
    assert report.build is not None and report.build.reused == 0
    assert engine.search("垃圾分类").results


@pytest.mark.parametrize(
    "damage",
    ["truncated postings", "vocabulary too short", "terms beyond the vocabulary", "metadata not json"],
)
def test_damaged_index_is_reported_and_rebuilt(corpus: Path, tmp_path: Path, damage: str) -> None:
    index_dir = tmp_path / "index"
    first = build_index(corpus, index_dir, IndexParams())
    segment = index_dir / "seg-000"
    if damage == "truncated postings":
        data = (segment / "docs.npy").read_bytes()
        (segment / "docs.npy").write_bytes(data[: len(data) // 2])
    elif damage == "vocabulary too short":
        lines = (index_dir / "vocab.txt").read_text(encoding="utf-8").split("\n")
        (index_dir / "vocab.txt").write_text("\n".join(lines[:-10]), encoding="utf-8")
    elif damage == "terms beyond the vocabulary":
        for name in ("terms", "fwd_terms"):
            array = np.load(segment / f"{name}.npy")
            array[-1] = 10**8
            np.save(segment / f"{name}.npy", array)
    else:
        (index_dir / META).write_text("{not json", encoding="utf-8")

    with pytest.raises(IndexUnusable):
        LoadedIndex(index_dir)
    engine, report = open_engine(corpus, index_dir, IndexParams(), SearchSettings())
    assert report.built and report.reason
    assert report.build is not None and report.build.n_articles == first.n_articles
    if damage == "terms beyond the vocabulary":
        assert report.build.reused == 0, "bags from a damaged index are not reused"
    assert engine.search("垃圾分类").results
    LoadedIndex(index_dir).close()


def test_article_lines_are_the_articles_records(tmp_path: Path) -> None:
    article = Article(
        id="x-1",
        headline="标题",
        body="第一段\n第二段",
        street="天山路街道",
        captions=["图一", "图二"],
        kicker="引题",
        derived_headline=False,
    )
    offsets = ArticleFile.write(tmp_path / "a.jsonl", [article])
    line = (tmp_path / "a.jsonl").read_bytes()
    assert offsets.tolist() == [0, len(line)]
    assert json.loads(line) == article.to_dict()
    stored = ArticleFile(tmp_path / "a.jsonl", offsets)
    assert stored.get(0) == article
    stored.close()


def test_terms_by_id_reads_the_vocabulary_of_the_current_generation(tmp_path: Path) -> None:
    # A publish writes the vocabulary under a new name and removes the old one.
    _, index_dir = index_then_publish(tmp_path)
    loaded = LoadedIndex(index_dir)
    terms = loaded.terms_by_id()
    assert len(terms) == loaded.meta["n_terms"]
    assert all(loaded.term_ids[term] == number for number, term in enumerate(terms))
