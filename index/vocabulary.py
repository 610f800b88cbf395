"""The index's term → id lookup, kept compact for serving.

A Python dict of a large archive's vocabulary costs about 150 bytes a term (370k terms at 68k
articles: 55 MB, more than the postings a question reads). Serving only ever looks terms up,
so the vocabulary is also written sorted, as one UTF-8 blob with offsets and the term ids, and
looked up by binary search: about 17 bytes a term, a few microseconds a lookup.

    vocab.txt                  one term per line, in id order (the build's own list)
    vocab-sorted.bin           the terms' UTF-8 bytes, concatenated in sorted order
    vocab-sorted-offsets.npy   int64 [n + 1]: where each sorted term starts in the blob
    vocab-sorted-ids.npy       int32 [n]: each sorted term's id
"""

from __future__ import annotations

import bisect
import os
from collections.abc import Iterator, Mapping, Sequence
from pathlib import Path

import numpy as np

from index.arrays import load_array
from index.atomic import temporary_name

BLOB = "vocab-sorted.bin"
OFFSETS = "vocab-sorted-offsets.npy"
IDS = "vocab-sorted-ids.npy"
SORTED_FILES = (BLOB, OFFSETS, IDS)
# Terms whose lookup a TermIds remembers (a few MB at most).
MEMO_SIZE = 20_000
_UNSEEN = object()


def write_sorted(terms: Sequence[str], paths: Mapping[str, Path]) -> None:
    """Write the sorted lookup files for `terms` (term id = position); `paths` by SORTED_FILES name."""
    order = sorted(range(len(terms)), key=terms.__getitem__)
    encoded = [terms[i].encode("utf-8") for i in order]
    _write_lookup(paths, encoded, [len(e) for e in encoded], order)


def _write_lookup(
    paths: Mapping[str, Path], pieces: list[bytes], lengths: Sequence[int] | np.ndarray, ids: Sequence[int] | np.ndarray
) -> None:
    """The three sorted lookup files: the blob of `pieces`, offsets from the terms' byte `lengths`."""
    offsets = np.zeros(len(lengths) + 1, dtype=np.int64)
    np.cumsum(lengths, out=offsets[1:])
    _write_atomic(paths[BLOB], b"".join(pieces))
    _save_atomic(paths[OFFSETS], offsets)
    _save_atomic(paths[IDS], np.asarray(ids, dtype=np.int32))


def _write_atomic(path: Path, data: bytes) -> None:
    temporary = temporary_name(path)
    temporary.write_bytes(data)
    os.replace(temporary, path)


def _save_atomic(path: Path, array: np.ndarray) -> None:
    temporary = temporary_name(path)
    with temporary.open("wb") as handle:
        np.save(handle, array, allow_pickle=False)
    os.replace(temporary, path)


class TermIds(Mapping[str, int]):
    """Read-only term → id mapping over the sorted files (thread-safe: nothing changes)."""

    def __init__(self, blob: bytes, offsets: np.ndarray, ids: np.ndarray) -> None:
        if offsets.shape[0] != ids.shape[0] + 1 or (offsets.shape[0] and int(offsets[-1]) != len(blob)):
            raise ValueError("the sorted vocabulary's files do not fit together")
        self._blob = blob
        # memoryview indexing gives Python ints without numpy's per-item overhead.
        self._offsets = np.ascontiguousarray(offsets, dtype=np.int64).data.cast("B").cast("q")
        self._ids = np.ascontiguousarray(ids, dtype=np.int32).data.cast("B").cast("i")
        self._memo: dict[str, object] = {}

    @classmethod
    def open(cls, paths: Mapping[str, Path]) -> TermIds:
        """Load the lookup written by `write_sorted`; raises OSError or ValueError when damaged."""
        return cls(
            paths[BLOB].read_bytes(),
            load_array(paths[OFFSETS], mmap=False),
            load_array(paths[IDS], mmap=False),
        )

    def _term(self, position: int) -> bytes:
        return self._blob[self._offsets[position] : self._offsets[position + 1]]

    def _position(self, key: bytes) -> int:
        """Where `key` (UTF-8) is, or would go, among the sorted terms."""
        return bisect.bisect_left(range(len(self._ids)), key, key=self._term)

    def _find(self, term: str) -> int | None:
        # Questions look the same few words up again and again (each of its words, their
        # pieces and bigrams, in several steps): a bounded memo saves most of the bisections.
        found = self._memo.get(term, _UNSEEN)
        if found is not _UNSEEN:
            return found  # type: ignore[return-value]
        position = self._search(term)
        if len(self._memo) >= MEMO_SIZE:
            self._memo.clear()
        self._memo[term] = position
        return position

    def _search(self, term: str) -> int | None:
        key = term.encode("utf-8")
        position = self._position(key)
        if position < len(self._ids) and self._term(position) == key:
            return position
        return None

    def write_extended(self, terms: Sequence[str], first_id: int, paths: Mapping[str, Path]) -> None:
        """Write the sorted lookup files of these terms and `terms` (new, ids from `first_id` on),
        as `write_sorted` of them all would, without sorting the known ones again (publishing)."""
        added = sorted((term.encode("utf-8"), first_id + number) for number, term in enumerate(terms))
        # UTF-8 bytes sort as the code points do, so each new term goes where its bytes bisect.
        where = [self._position(key) for key, _ in added]
        offsets = np.asarray(self._offsets, dtype=np.int64)
        pieces: list[bytes] = []
        last = 0
        for (key, _), at in zip(added, offsets[where].tolist(), strict=True):
            pieces.extend((self._blob[last:at], key))
            last = at
        pieces.append(self._blob[last:])
        lengths = np.insert(np.diff(offsets), where, [len(key) for key, _ in added])
        ids = np.insert(np.asarray(self._ids, dtype=np.int32), where, [i for _, i in added])
        _write_lookup(paths, pieces, lengths, ids)

    def has_prefix(self, text: str) -> bool:
        """Whether some term starts with `text` (a term counts as its own prefix)."""
        key = text.encode("utf-8")
        position = self._position(key)
        return position < len(self._ids) and self._term(position).startswith(key)

    def __getitem__(self, term: str) -> int:
        position = self._find(term) if isinstance(term, str) else None
        if position is None:
            raise KeyError(term)
        return int(self._ids[position])

    def get(self, term: str, default: int | None = None) -> int | None:  # type: ignore[override]
        """The id of a term, or `default`."""
        position = self._find(term) if isinstance(term, str) else None
        return default if position is None else int(self._ids[position])

    def __contains__(self, term: object) -> bool:
        return isinstance(term, str) and self._find(term) is not None

    def __len__(self) -> int:
        return len(self._ids)

    def __iter__(self) -> Iterator[str]:
        for position in range(len(self._ids)):
            yield self._term(position).decode("utf-8")
