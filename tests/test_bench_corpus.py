"""Benchmark corpora beyond the archive: real articles first, then ones made of real passages."""

from __future__ import annotations

import json
import lzma
from pathlib import Path

from bench.corpus import SYNTHETIC_PREFIX, passages, write_corpus
from index.corpus import load_corpus

TEXTS = [
    "街道召开垃圾分类推进会。居民代表参加了会议！会上通报了检查结果。下一步将加强宣传。",
    "社区卫生服务中心开展义诊。老人排队测血压。医生讲解慢病知识？活动持续一上午。",
    "天山路街道举办文化节。孩子们表演节目。志愿者维持秩序。",
]


def archive(tmp_path: Path) -> Path:
    path = tmp_path / "news.jsonl.xz"
    with lzma.open(path, "wb") as out:
        for number, text in enumerate(TEXTS):
            record = {"id": f"news-{number}", "date": f"2023-0{number + 1}-01 08:00:00", "text": text}
            out.write(json.dumps(record, ensure_ascii=False).encode() + b"\n")
    return path


def test_passages_are_runs_of_whole_sentences() -> None:
    assert passages(TEXTS[0]) == [
        "街道召开垃圾分类推进会。居民代表参加了会议！会上通报了检查结果。",
        "下一步将加强宣传。",
    ]
    assert passages("") == []


def test_within_the_archive_only_real_articles(tmp_path: Path) -> None:
    target = tmp_path / "two.jsonl"
    assert write_corpus(archive(tmp_path), 2, target) == (2, 0)
    assert [json.loads(line)["id"] for line in target.read_text(encoding="utf-8").splitlines()] == ["news-0", "news-1"]


def test_beyond_the_archive_articles_are_made_of_real_passages(tmp_path: Path) -> None:
    source = archive(tmp_path)
    target = tmp_path / "big.jsonl"
    assert write_corpus(source, 40, target) == (3, 37)
    records = [json.loads(line) for line in target.read_text(encoding="utf-8").splitlines()]
    assert len(records) == 40 and len({r["id"] for r in records}) == 40
    assert [r["text"] for r in records[:3]] == TEXTS
    real_passages = {p for text in TEXTS for p in passages(text)}
    shortest = min(len(t) for t in TEXTS)
    for record in records[3:]:
        assert record["id"].startswith(SYNTHETIC_PREFIX)
        assert record["date"] in {f"2023-0{n + 1}-01 08:00:00" for n in range(3)}
        assert len(record["text"]) >= shortest
        rest = record["text"]
        while rest:  # the text is a concatenation of real passages
            head = next(p for p in real_passages if rest.startswith(p))
            rest = rest[len(head) :]
    again = tmp_path / "again.jsonl"
    write_corpus(source, 40, again)
    assert again.read_bytes() == target.read_bytes()  # deterministic
    loaded = load_corpus(target)
    assert len(loaded.articles) == 40 and not loaded.skipped
