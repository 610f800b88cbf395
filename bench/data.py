"""The benchmark's inputs: questions, labelled dev questions, and what an index directory holds
(article ids, per-article bags of term ids, the vocabulary) so the references score the very
same tokens as ours.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np

from bench.figures import K

log = logging.getLogger(__name__)


def read_queries(path: Path) -> list[str]:
    """The timing questions, one a line."""
    return [line.strip() for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]


def read_dev(path: Path) -> list[tuple[str, str]]:
    """(question, gold article id) pairs."""
    pairs = []
    for line in path.read_text(encoding="utf-8").splitlines():
        if line.strip():
            record = json.loads(line)
            pairs.append((str(record["q"]), str(record["gold"])))
    return pairs


def index_ids(index_dir: Path) -> list[str]:
    """Article ids in document order."""
    meta = json.loads((index_dir / "meta.json").read_text(encoding="utf-8"))
    ids: list[str] = []
    for entry in meta["segments"]:
        ids.extend((index_dir / entry["name"] / "ids.txt").read_text(encoding="utf-8").split("\n"))
    return ids


def directory_bytes(directory: Path) -> int:
    """Total size of the files under a directory."""
    return sum(p.stat().st_size for p in directory.rglob("*") if p.is_file())


def read_npy_header(handle: Any) -> tuple[tuple[int, ...], np.dtype[Any]]:
    major, _ = np.lib.format.read_magic(handle)
    if major == 1:
        shape, _, dtype = np.lib.format.read_array_header_1_0(handle)
    else:
        shape, _, dtype = np.lib.format.read_array_header_2_0(handle)
    return shape, dtype


def stream_bags(index_dir: Path) -> Iterator[tuple[list[int], list[int]]]:
    """Every article's (term ids, counts), read with plain file reads.

    Memory-mapping the arrays would put them in this process's resident set; the references'
    memory figures should hold their own structures only.
    """
    meta = json.loads((index_dir / "meta.json").read_text(encoding="utf-8"))
    for entry in meta["segments"]:
        seg_dir = index_dir / entry["name"]
        indptr = np.load(seg_dir / "fwd_indptr.npy")
        with (seg_dir / "fwd_terms.npy").open("rb") as terms_file, (seg_dir / "fwd_tfs.npy").open("rb") as tfs_file:
            _, terms_dtype = read_npy_header(terms_file)
            _, tfs_dtype = read_npy_header(tfs_file)
            for count in np.diff(indptr).tolist():
                terms = np.fromfile(terms_file, dtype=terms_dtype, count=count)
                tfs = np.fromfile(tfs_file, dtype=tfs_dtype, count=count)
                yield terms.tolist(), tfs.tolist()


def read_vocabulary(index_dir: Path) -> list[str]:
    """The index's terms; a term's id is its position."""
    from index.index_files import META, index_file

    meta = json.loads((index_dir / META).read_text(encoding="utf-8"))
    text = index_file(index_dir, meta, "vocab.txt").read_text(encoding="utf-8")
    return text.split("\n") if text else []


def top_by_score(scores: np.ndarray, k: int = K) -> list[tuple[int, float]]:
    """The k best positive (document, score) pairs, ties broken by document number (as ours)."""
    k = min(k, scores.shape[0])
    if k <= 0:
        return []
    candidates = np.argpartition(-scores, k - 1)[:k]
    ranked = sorted(candidates.tolist(), key=lambda d: (-scores[d], d))
    return [(int(d), float(scores[d])) for d in ranked if scores[d] > 0]
