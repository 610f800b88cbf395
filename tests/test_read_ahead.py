"""Reading xz archives ahead in a thread: the same lines as lzma.open, the same errors."""

from __future__ import annotations

import json
import lzma
import random
from pathlib import Path

import pytest

from index import read_ahead
from index.corpus import load_corpus
from index.read_ahead import xz_lines


def _reference_lines(path: Path) -> list[bytes]:
    with lzma.open(path, "rb") as handle:
        return handle.read().split(b"\n")


def _payload(lines: int, seed: int = 0) -> bytes:
    rng = random.Random(seed)
    rows = ["".join(rng.choice("社区报垃圾分类abc 123\t") for _ in range(rng.randint(0, 300))) for _ in range(lines)]
    return "\n".join(rows).encode()


@pytest.fixture
def small_blocks(monkeypatch: pytest.MonkeyPatch) -> None:
    """Blocks far smaller than a line, so lines are split across many of them."""
    monkeypatch.setattr(read_ahead, "RAW_BYTES", 97)
    monkeypatch.setattr(read_ahead, "BLOCK_BYTES", 61)


@pytest.mark.parametrize("ending", [b"", b"\n"])
def test_lines_are_those_of_lzma_open(tmp_path: Path, small_blocks: None, ending: bytes) -> None:
    path = tmp_path / "a.jsonl.xz"
    path.write_bytes(lzma.compress(_payload(400) + ending))
    expected = _reference_lines(path)
    if expected[-1] == b"":
        expected.pop()
    assert list(xz_lines(path)) == expected


def test_several_streams_and_trailing_garbage(tmp_path: Path, small_blocks: None) -> None:
    path = tmp_path / "b.jsonl.xz"
    first, second = _payload(50, 1) + b"\n", _payload(60, 2)
    path.write_bytes(lzma.compress(first) + lzma.compress(second) + b"not xz at all")
    assert list(xz_lines(path)) == (first + second).split(b"\n")


@pytest.mark.parametrize("damage", ["truncated", "corrupt", "empty"])
def test_damage_raises_what_lzma_open_raises(tmp_path: Path, small_blocks: None, damage: str) -> None:
    whole = lzma.compress(_payload(300))
    data = {"truncated": whole[: len(whole) // 2], "corrupt": whole[:40] + b"\xff" * 64 + whole[104:], "empty": b""}
    path = tmp_path / "c.jsonl.xz"
    path.write_bytes(data[damage])
    with pytest.raises((EOFError, lzma.LZMAError)) as ours:
        list(xz_lines(path))
    with pytest.raises((EOFError, lzma.LZMAError)) as theirs:
        _reference_lines(path)
    assert type(ours.value) is type(theirs.value)


def test_a_truncated_archive_keeps_what_came_before_and_is_named(tmp_path: Path) -> None:
    records = [
        {"id": f"n{i}", "text": f"第{i}条新闻：社区开展垃圾分类宣传活动，居民积极参与。" * 20} for i in range(2000)
    ]
    whole = lzma.compress("\n".join(json.dumps(r, ensure_ascii=False) for r in records).encode())
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "news.jsonl.xz").write_bytes(whole[: int(len(whole) * 0.9)])
    loaded = load_corpus(corpus)
    assert 0 < len(loaded.articles) < len(records)
    assert [a.id for a in loaded.articles] == [r["id"] for r in records[: len(loaded.articles)]]
    assert [(s.path, s.reason.split(":")[0]) for s in loaded.skipped] == [
        (str(corpus / "news.jsonl.xz"), "unreadable archive")
    ]
