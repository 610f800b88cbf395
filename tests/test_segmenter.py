"""rjieba against the jieba reference (the same tokens), and which segmenter an index records."""

from __future__ import annotations

import itertools
import json
import lzma
import shutil
import threading
from dataclasses import replace
from pathlib import Path

import pytest
from corpora import BENCH, ROOT

from index.build import build_index
from index.corpus import load_corpus
from index.loaded_index import LoadedIndex
from index.segmenter import available_segmenters, make_segmenter, resolve
from index.settings import IndexParams
from index.staleness import index_is_current
from index.tokenize import Tokenizer, build_user_words

pytestmark = pytest.mark.skipif("rjieba" not in available_segmenters(), reason="rjieba is not installed")


def bundled_texts() -> tuple[list[str], list[str]]:
    corpus = load_corpus(ROOT / "corpus")
    texts = ["\n".join([a.title, a.body, *a.captions]) for a in corpus.articles]
    return texts, build_user_words([i.street for i in corpus.issues], texts)


@pytest.mark.parametrize("with_user_words", [False, True])
def test_rjieba_gives_jiebas_tokens_on_the_bundled_issues(with_user_words: bool) -> None:
    texts, user_words = bundled_texts()
    words = user_words if with_user_words else []
    fast, reference = Tokenizer(words, segmenter="rjieba"), Tokenizer(words, segmenter="jieba")
    assert sum(len(t) for t in texts) > 10_000
    for text in texts:
        assert fast.document_tokens(text) == reference.document_tokens(text)
    for line in (line for text in texts for line in text.splitlines()[:3] if line.strip()):
        assert fast.query_tokens(line) == reference.query_tokens(line)
        assert fast.query_words(line) == reference.query_words(line)


def test_rjieba_gives_jiebas_tokens_on_real_news() -> None:
    if not (BENCH / "news.jsonl.xz").exists():
        pytest.skip(f"no benchmark data at {BENCH}")
    with lzma.open(BENCH / "news.jsonl.xz", "rt", encoding="utf-8") as archive:
        texts = [json.loads(line)["text"] for line in itertools.islice(archive, 400)]
    fast, reference = Tokenizer(segmenter="rjieba"), Tokenizer(segmenter="jieba")
    for text in texts:
        assert fast.document_tokens(text) == reference.document_tokens(text)


@pytest.mark.parametrize(
    ("run", "pieces"),
    [
        ("600519.SH", ["600519", ".", "SH"]),
        ("1.2.0", ["1.2", ".", "0"]),
        ("3.5%", ["3.5%"]),
        ("iPhone15", ["iPhone15"]),
        ("COVID-19", ["COVID", "-", "19"]),
        ("No.3", ["No.3"]),
        ("社区", ["社区"]),
    ],
)
def test_number_and_latin_runs_are_cut_as_jieba_cuts_them(run: str, pieces: list[str]) -> None:
    assert make_segmenter("rjieba").pieces(run) == pieces
    fast, reference = Tokenizer(segmenter="rjieba"), Tokenizer(segmenter="jieba")
    text = f"贵州茅台发布{run}版本"
    assert fast.document_tokens(text) == reference.document_tokens(text)


def test_words_taught_later_count_in_both() -> None:
    text = "居民来到芷心工作坊参加活动"
    for name in ("rjieba", "jieba"):
        tokenizer = Tokenizer(segmenter=name)
        assert "芷心工作坊" not in tokenizer.document_tokens(text)
        tokenizer.add_words(["芷心工作坊"])
        assert "芷心工作坊" in tokenizer.document_tokens(text), name


def test_teaching_words_while_other_threads_cut() -> None:
    segmenter = make_segmenter("rjieba")
    text = "芷江西路街道召开垃圾分类工作推进会，居民代表参加。" * 200
    errors: list[BaseException] = []
    stop = threading.Event()

    def cut() -> None:
        try:
            while not stop.is_set():
                segmenter.cut(text)
        except BaseException as exc:
            errors.append(exc)

    readers = [threading.Thread(target=cut) for _ in range(3)]
    for reader in readers:
        reader.start()
    try:
        for number in range(30):
            segmenter.add_words([f"新地名{number}号"])
    finally:
        stop.set()
        for reader in readers:
            reader.join()
    assert errors == []
    assert segmenter.has_word("新地名29号")


def test_unknown_or_missing_segmenters_are_named() -> None:
    assert resolve("auto") == "rjieba"
    with pytest.raises(ValueError, match="unknown segmenter"):
        resolve("thulac")
    with pytest.raises(ValueError, match="segmenter"):
        IndexParams(segmenter="thulac")


def test_the_index_records_its_segmenter_and_a_switch_rebuilds(tmp_path: Path) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(ROOT / "corpus", corpus)
    index_dir = tmp_path / "index"
    params = IndexParams()
    build_index(corpus, index_dir, params, workers=1)
    loaded = LoadedIndex(index_dir)
    assert loaded.meta["segmenter"] == "rjieba" == loaded.tokenizer.segmenter
    loaded.close()
    assert index_is_current(index_dir, corpus, params) == (True, "")

    as_jieba = replace(params, segmenter="jieba")
    current, why = index_is_current(index_dir, corpus, as_jieba)
    assert not current and "segmenter" in why
    report = build_index(corpus, index_dir, as_jieba, workers=1)
    assert report.reused == 0  # nothing of the other segmenter's tokens is kept
    rebuilt = LoadedIndex(index_dir)
    assert rebuilt.tokenizer.segmenter == "jieba"
    rebuilt.close()


def test_dictionary_questions_are_answered_alike() -> None:
    fast, reference = Tokenizer(["芷心工作坊"], segmenter="rjieba"), Tokenizer(["芷心工作坊"], segmenter="jieba")
    texts, _ = bundled_texts()
    sample = texts[0][:400]
    assert fast.words(sample) == reference.words(sample)
    assert "".join(fast.words(sample)) == sample
    probes = {sample[i : i + n] for i in range(0, 300, 7) for n in (1, 2, 3, 4)} | {"芷心工", "芷心工作坊", "qqz"}
    for probe in sorted(probes):
        assert fast.is_word(probe) == reference.is_word(probe), probe
