"""Corpora for tests: where the bundled corpus and the shared benchmark data live, a small new
issue to publish, and the bundled corpus with its index built once per test process (every test
that needs an index, read-only or a private copy to publish into, starts from that one build)."""

from __future__ import annotations

import atexit
import functools
import shutil
import tempfile
from pathlib import Path

from index.maintenance import open_engine
from index.settings import IndexParams, SearchSettings

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpus"
# The 68k-article benchmark archive and its labelled questions, beside the project (tests skip without it).
BENCH = ROOT.parent / "shared" / "bench"

# A question the bundled corpus answers, and the headline of the article that answers it.
WATERLOGGING_QUESTION = "积水点改造"
WATERLOGGING_HEADLINE = "王为人检查天山积水点改造"

NEW_ISSUE = """天山路街道开设老年助餐点

本月起，天山路街道在娄山关路新开一家老年助餐点，每天中午为社区老人供应午餐，八十岁以上老人享受优惠。

(社区办)

居民议事会讨论加装电梯

日前，天山路街道多个小区召开居民议事会，围绕老旧住宅加装电梯的费用分摊和施工安排展开讨论，大家各抒己见。

(自治办)

社区图书馆延长开放时间

为方便上班族，社区图书馆自下月起每周三晚上开放到九点，欢迎居民前来借阅图书和参加读书活动。

(文化中心)
"""


@functools.cache
def indexed_corpus() -> Path:
    """A directory holding `corpus/` (the bundled corpus) and `data/index/` (its index), built once."""
    base = Path(tempfile.mkdtemp(prefix="newsbot-test-corpus-"))
    atexit.register(shutil.rmtree, base, True)
    shutil.copytree(CORPUS, base / "corpus")
    open_engine(base / "corpus", base / "data" / "index", IndexParams(), SearchSettings(), workers=1)
    return base


def copy_corpus_and_index(directory: Path) -> tuple[Path, Path]:
    """A private copy of the corpus and its index under `directory` (for tests that publish into them)."""
    corpus = directory / "corpus"
    index = directory / "data" / "index"
    shutil.copytree(indexed_corpus() / "corpus", corpus)
    shutil.copytree(indexed_corpus() / "data" / "index", index)
    return corpus, index


# A bundled issue that tests leave out of a corpus, to publish it into its index.
HELD_OUT = "004_8c6126055dad1091.txt"


def corpus_without_held_out(directory: Path) -> Path:
    """A copy of the bundled corpus but HELD_OUT, as `directory`/corpus."""
    corpus = directory / "corpus"
    corpus.mkdir()
    for path in CORPUS.iterdir():
        if path.name != HELD_OUT:
            shutil.copy(path, corpus / path.name)
    return corpus


def index_then_publish(directory: Path) -> tuple[Path, Path]:
    """The bundled corpus but HELD_OUT indexed under `directory`, then HELD_OUT published into
    it (the index then has two segments): the corpus and index directories."""
    from index.build import build_index
    from index.publish import parse_upload, publish_issue

    corpus = corpus_without_held_out(directory)
    index_dir = directory / "index"
    build_index(corpus, index_dir, IndexParams())
    issue, articles, text = parse_upload((CORPUS / HELD_OUT).read_bytes(), HELD_OUT, "天山路街道", "2020-06")
    publish_issue(corpus, index_dir, issue, articles, text)
    return corpus, index_dir
