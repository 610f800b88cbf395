"""A rebuild of the very corpus bytes a whole index was built from keeps that index as it is;
any other change (bytes, settings, tokenizer version, an appended issue, damage) builds."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from corpora import CORPUS, HELD_OUT, index_then_publish

import index.indexed_text
import index.tokenize
from index.build import build_index
from index.corpus import corpus_digest
from index.index_files import META
from index.loaded_index import LoadedIndex
from index.search import SearchEngine
from index.settings import IndexParams
from index.staleness import index_is_current


@pytest.fixture
def corpus(tmp_path: Path) -> Path:
    """A private copy of the bundled corpus, with one file the corpus cannot read."""
    target = tmp_path / "corpus"
    shutil.copytree(CORPUS, target)
    (target / "blank.txt").write_bytes(b"")
    return target


def files_of(index_dir: Path) -> dict[str, tuple[int, int, bytes]]:
    """Every file of an index: inode, modification time, bytes."""
    return {
        str(p.relative_to(index_dir)): (p.stat().st_ino, p.stat().st_mtime_ns, p.read_bytes())
        for p in sorted(index_dir.rglob("*"))
        if p.is_file()
    }


def test_a_rebuild_of_the_same_bytes_keeps_the_index_and_its_skipped_files(corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    first = build_index(corpus, index_dir, IndexParams())
    assert not first.kept and first.skipped and "blank.txt" in first.skipped[0].path
    before = files_of(index_dir)

    again = build_index(corpus, index_dir, IndexParams())
    assert again.kept
    assert (again.n_articles, again.n_issues, again.segmented, again.reused) == (
        first.n_articles,
        first.n_issues,
        0,
        first.n_articles,
    )
    assert again.skipped == first.skipped
    assert files_of(index_dir) == before, "not one file of the index was written"
    assert not list(tmp_path.glob("index.*")), "no staging directory was made"


def test_touched_files_keep_the_index_and_it_is_current_again(corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    build_index(corpus, index_dir, IndexParams())
    touched = corpus / HELD_OUT
    stat = touched.stat()
    os.utime(touched, ns=(stat.st_atime_ns, stat.st_mtime_ns + 10**9))
    assert index_is_current(index_dir, corpus, IndexParams()) == (False, "corpus changed")

    assert build_index(corpus, index_dir, IndexParams()).kept
    assert index_is_current(index_dir, corpus, IndexParams()) == (True, "")


def test_bytes_that_read_as_the_same_articles_rebuild_reusing_every_article(corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    first = build_index(corpus, index_dir, IndexParams())
    changed = corpus / HELD_OUT
    changed.write_bytes(changed.read_bytes() + b"\n\n")
    assert corpus_digest(corpus) != json.loads((index_dir / META).read_text("utf-8"))["corpus"]["digest"]

    report = build_index(corpus, index_dir, IndexParams())
    assert not report.kept and (report.segmented, report.reused) == (0, first.n_articles)
    assert build_index(corpus, index_dir, IndexParams()).kept, "the new bytes are recorded"


def test_a_changed_article_is_segmented(corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    build_index(corpus, index_dir, IndexParams())
    changed = corpus / HELD_OUT
    changed.write_text(changed.read_text("utf-8") + "\n外滩街道新增一处社区食堂，老人用餐更方便。\n", "utf-8")

    report = build_index(corpus, index_dir, IndexParams())
    assert not report.kept and report.segmented > 0
    assert SearchEngine.open(index_dir).search("社区食堂 老人用餐").results


def test_other_settings_or_tokenizer_version_build(
    corpus: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    index_dir = tmp_path / "index"
    build_index(corpus, index_dir, IndexParams())
    heavier = IndexParams(title_weight=IndexParams().title_weight + 1)
    assert not build_index(corpus, index_dir, heavier).kept
    assert build_index(corpus, index_dir, heavier).kept

    for module in (index.tokenize, index.indexed_text):
        monkeypatch.setattr(module, "TOKENIZER_VERSION", "another")
    assert index_is_current(index_dir, corpus, heavier) == (False, "word lists or text layout changed")
    report = build_index(corpus, index_dir, heavier)
    assert not report.kept and report.segmented == report.n_articles, "no bag of another tokenizer is reused"


def test_a_published_issue_is_merged_by_the_next_rebuild(tmp_path: Path) -> None:
    corpus, index_dir = index_then_publish(tmp_path)
    assert len(json.loads((index_dir / META).read_text("utf-8"))["segments"]) == 2

    # Not kept (it is two segments), though nothing changed since the publish.
    assert not build_index(corpus, index_dir, IndexParams()).kept
    assert len(json.loads((index_dir / META).read_text("utf-8"))["segments"]) == 1
    assert build_index(corpus, index_dir, IndexParams()).kept


def test_a_damaged_index_is_rebuilt_not_kept(corpus: Path, tmp_path: Path) -> None:
    index_dir = tmp_path / "index"
    first = build_index(corpus, index_dir, IndexParams())
    (index_dir / "seg-000" / "ids.txt").unlink()
    offsets = np.load(index_dir / "seg-000" / "offsets.npy")
    assert offsets.shape[0] == first.n_articles + 1

    report = build_index(corpus, index_dir, IndexParams())
    assert not report.kept and report.n_articles == first.n_articles
    LoadedIndex(index_dir).close()


def test_newsbot_index_force_says_the_index_was_kept(corpus: Path, tmp_path: Path) -> None:
    config = tmp_path / "config.yaml"
    config.write_text(f"corpus_dir: {corpus}\ndata_dir: {tmp_path / 'data'}\nworkers: 1\n", encoding="utf-8")
    command = [sys.executable, "-m", "bot.cli", "index", "--config", str(config)]
    built = subprocess.run(command, capture_output=True, text=True, check=False)
    assert "segmented" in built.stdout, built.stderr

    kept = subprocess.run([*command, "--force"], capture_output=True, text=True, check=False)
    assert "index kept as it is" in kept.stdout, kept.stderr
    assert "blank.txt" in kept.stderr, "the skipped file is still named"
    assert kept.returncode == built.returncode
