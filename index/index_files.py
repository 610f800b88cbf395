"""The index directory's files: its format, the names it keeps, and writing them whole.

Layout (every file written whole, then renamed into place):

    meta.json        format version, parameters, corpus fingerprint, segments, skipped files
    vocab.txt        one term a line; a term's id is its line number
    vocab-sorted.*   the same terms sorted, for lookups while serving (index/vocabulary.py)
    userdict.txt     the local names the segmenter was taught
    issues.json      the issues and their article ids
    seg-NNN/         one segment: BM25 arrays (.npy) of the word field and of the
                     character-bigram field with its positions (bg_*.npy, see index.bigram),
                     minhash.npy (near-duplicate signatures, see index.neardup),
                     articles.jsonl + offsets.npy (index.article_file), hashes.txt (content
                     hash of each article, index.indexed_text), ids.txt (article ids)

An index of another format version, or one whose files do not fit together, raises
`IndexUnusable`; callers report it and rebuild. Building is index.build, loading
index.loaded_index, appending a published issue index.append, the staleness check
index.staleness.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from index.article import Article
from index.article_file import ArticleFile
from index.atomic import temporary_name
from index.bigram import BigramSegment
from index.bm25 import Segment
from index.vocabulary import SORTED_FILES

# 3: the character-bigram field with positions, and near-duplicate signatures.
# 4: the signatures by one-permutation MinHash (rows of an older index would not compare).
FORMAT_VERSION = 4
MINHASH = "minhash.npy"
META = "meta.json"


class IndexUnusable(Exception):
    """The index directory is missing, of another version, or damaged."""


def write_text(path: Path, text: str) -> None:
    """Write `path` whole: a temporary file, renamed into place."""
    tmp = temporary_name(path)
    try:
        tmp.write_text(text, encoding="utf-8")
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


def write_json(path: Path, data: Any, *, compact: bool = False) -> None:
    """Write `data` as JSON, whole; `compact`: on one line, which json's C encoder writes (it
    writes nothing indented: the issue list of a 68k archive took 60 ms indented, 5 compact)."""
    text = (
        json.dumps(data, ensure_ascii=False, separators=(",", ":"))
        if compact
        else json.dumps(data, ensure_ascii=False, indent=1)
    )
    write_text(path, text)


def write_lines(path: Path, lines: Iterable[str]) -> None:
    """Write one string a line, whole (no newline after the last)."""
    write_text(path, "\n".join(lines))


# The small files add_articles rewrites. It writes new copies under new names and meta.json,
# written last, names them (`files`), so a reader or a crash sees the old generation or the new
# one, never a mix. A freshly built index uses the plain names.
GENERATION_FILES = ("vocab.txt", "userdict.txt", "issues.json", *SORTED_FILES)


def index_file(directory: Path, meta: dict[str, Any], name: str) -> Path:
    """Where this generation of an index keeps `name` (one of GENERATION_FILES)."""
    return directory / str((meta.get("files") or {}).get(name, name))


def count_lines(path: Path) -> int:
    """How many lines `write_lines` wrote, without keeping them."""
    data = path.read_bytes()
    return data.count(b"\n") + 1 if data else 0


def read_lines(path: Path) -> list[str]:
    """The lines `write_lines` wrote."""
    text = path.read_text(encoding="utf-8")
    return text.split("\n") if text else []


def link_or_copy(source: Path, target: Path) -> None:
    """`target` as the same file as `source`: a hard link where possible, else a copy."""
    # Index files are never modified in place (always written whole and renamed), so a
    # hard link is as safe as a copy and costs nothing.
    try:
        os.link(source, target)
    except OSError:
        shutil.copyfile(source, target)


def segment_files(
    directory: Path,
    segment: Segment,
    bigrams: BigramSegment,
    minhash: np.ndarray,
    offsets: np.ndarray,
    hashes: list[str],
    ids: list[str],
) -> None:
    """Write a segment's arrays, signatures, article offsets, content hashes and ids into `directory`."""
    segment.save(directory)
    bigrams.save(directory)
    np.save(directory / MINHASH, minhash, allow_pickle=False)
    np.save(directory / "offsets.npy", offsets, allow_pickle=False)
    write_lines(directory / "hashes.txt", hashes)
    write_lines(directory / "ids.txt", ids)


def save_segment(
    directory: Path,
    name: str,
    segment: Segment,
    bigrams: BigramSegment,
    minhash: np.ndarray,
    articles: list[Article],
    hashes: list[str],
) -> None:
    """Write segment `name` of `directory` with its articles, whole: built aside, then renamed into place."""
    tmp = temporary_name(directory / name)
    tmp.mkdir(parents=True)
    offsets = ArticleFile.write(tmp / "articles.jsonl", articles)
    segment_files(tmp, segment, bigrams, minhash, offsets, hashes, [a.id for a in articles])
    final = directory / name
    shutil.rmtree(final, ignore_errors=True)
    tmp.rename(final)
