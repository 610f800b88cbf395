"""Benchmark corpora larger than the real archive, made from its own text.

A city's ten years of community papers are about half a million articles; the archive holds
68k. Beyond its end, new articles are assembled from runs of consecutive real sentences
(a passage keeps the words that go together), drawn at random across the archive until each
reaches the length of a randomly chosen real article, with a real article's date and an id
of their own. Word frequencies, document lengths and the vocabulary's growth therefore stay
those of real news, which is what index size, memory and query cost depend on; relevance
labels do not carry over (the labelled questions' gold articles are all real ones).
"""

from __future__ import annotations

import json
import lzma
import random
import re
from collections.abc import Iterator
from pathlib import Path

# Sentences per passage taken from one article.
PASSAGE_SENTENCES = 3
SYNTHETIC_PREFIX = "syn-"
_SENTENCE_END = re.compile(r"(?<=[。！？!?；])")


def _records(archive: Path) -> Iterator[bytes]:
    opener = lzma.open if archive.suffix == ".xz" else open
    with opener(archive, "rb") as source:
        for line in source:
            if line.strip():
                yield line


def passages(text: str) -> list[str]:
    """The text cut into runs of up to PASSAGE_SENTENCES consecutive sentences."""
    sentences = [s for s in _SENTENCE_END.split(text) if s.strip()]
    return ["".join(sentences[i : i + PASSAGE_SENTENCES]) for i in range(0, len(sentences), PASSAGE_SENTENCES)]


def write_corpus(archive: Path, size: int, target: Path, seed: int = 0) -> tuple[int, int]:
    """`size` articles as a plain JSONL file: the archive's first ones, then made ones.

    Returns (real, made). Deterministic for a given archive, size and seed.
    """
    target.parent.mkdir(parents=True, exist_ok=True)
    real = 0
    pool: list[str] = []
    lengths: list[int] = []
    dates: list[str] = []
    with target.open("wb") as out:
        for line in _records(archive):
            if real >= size:
                return real, 0
            out.write(line if line.endswith(b"\n") else line + b"\n")
            real += 1
            record = json.loads(line)
            text = str(record.get("text") or "")
            pool.extend(passages(text))
            lengths.append(len(text))
            dates.append(str(record.get("date") or ""))
        if not pool:
            return real, 0
        rng = random.Random(seed)
        made = size - real
        for number in range(made):
            wanted = rng.choice(lengths)
            parts: list[str] = []
            length = 0
            while length < wanted:
                part = rng.choice(pool)
                parts.append(part)
                length += len(part)
            record = {"id": f"{SYNTHETIC_PREFIX}{number:07d}", "date": rng.choice(dates), "text": "".join(parts)}
            out.write(json.dumps(record, ensure_ascii=False).encode() + b"\n")
    return real, made
