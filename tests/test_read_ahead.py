"""Reading xz archives with a child process decompressing ahead: the same lines as lzma.open,
the same errors after the same lines, and no child left behind."""

from __future__ import annotations

import json
import lzma
import random
from pathlib import Path

import pytest

from index import read_ahead
from index.corpus import load_corpus
from index.read_ahead import xz_lines


def _reference(path: Path) -> tuple[list[bytes], type[BaseException] | None]:
    lines: list[bytes] = []
    try:
        with lzma.open(path, "rb") as handle:
            for line in handle:
                lines.append(line)
    except (EOFError, lzma.LZMAError) as exc:
        return lines, type(exc)
    return lines, None


def _ours(path: Path) -> tuple[list[bytes], type[BaseException] | None]:
    lines: list[bytes] = []
    try:
        for line in xz_lines(path):
            lines.append(line)
    except (EOFError, lzma.LZMAError) as exc:
        return lines, type(exc)
    return lines, None


def _payload(lines: int, seed: int = 0) -> bytes:
    rng = random.Random(seed)
    rows = ["".join(rng.choice("社区报垃圾分类abc 123\t") for _ in range(rng.randint(0, 300))) for _ in range(lines)]
    return "\n".join(rows).encode()


@pytest.fixture(params=["child", "in this process"])
def way(request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch) -> str:
    """Both ways of reading: a child decompressing (small blocks, a short queue) or lzma.open."""
    if request.param == "child":
        monkeypatch.setattr(read_ahead, "CHILD_MIN_BYTES", 0)
        monkeypatch.setattr(read_ahead, "READ_BYTES", 97)
        monkeypatch.setattr(read_ahead, "AHEAD_BLOCKS", 2)
    else:
        monkeypatch.setattr(read_ahead, "CHILD_MIN_BYTES", 1 << 62)
    return str(request.param)


@pytest.mark.parametrize("ending", [b"", b"\n"])
def test_lines_are_those_of_lzma_open(tmp_path: Path, way: str, ending: bytes) -> None:
    path = tmp_path / "a.jsonl.xz"
    path.write_bytes(lzma.compress(_payload(400) + ending))
    assert _ours(path) == _reference(path)
    assert _ours(path)[1] is None and len(_ours(path)[0]) == 400


def test_several_streams_and_trailing_garbage(tmp_path: Path, way: str) -> None:
    path = tmp_path / "b.jsonl.xz"
    first, second = _payload(50, 1) + b"\n", _payload(60, 2)
    path.write_bytes(lzma.compress(first) + lzma.compress(second) + b"not xz at all")
    assert _ours(path) == _reference(path) == ((first + second).splitlines(keepends=True), None)


@pytest.mark.parametrize("damage", ["truncated", "corrupt", "empty"])
def test_damage_is_raised_after_the_lines_before_it(tmp_path: Path, way: str, damage: str) -> None:
    whole = lzma.compress(_payload(3000))
    data = {"truncated": whole[: len(whole) // 2], "corrupt": whole[:4000] + b"\xff" * 64 + whole[4064:], "empty": b""}
    path = tmp_path / "c.jsonl.xz"
    path.write_bytes(data[damage])
    ours, theirs = _ours(path), _reference(path)
    assert ours[1] is not None and ours[1] is theirs[1]
    # lzma.open hands out lines in pieces of its buffer; the child's pipe in others. Either
    # way only whole lines come before the error, the same ones as far as both got.
    shorter = min(len(ours[0]), len(theirs[0]))
    assert ours[0][:shorter] == theirs[0][:shorter]
    if damage == "truncated":
        assert len(ours[0]) > 1000


def test_a_reader_that_stops_early_leaves_no_child(tmp_path: Path, way: str) -> None:
    path = tmp_path / "d.jsonl.xz"
    path.write_bytes(lzma.compress(_payload(5000)))
    lines = xz_lines(path)
    assert next(lines)
    lines.close()  # returns: the child is stopped and the draining thread ends
    assert _ours(path)[1] is None


def test_a_truncated_archive_keeps_what_came_before_and_is_named(tmp_path: Path, way: str) -> None:
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
