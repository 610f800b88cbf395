"""The articles of one index segment on disk: a JSON-lines file read on demand by byte offset."""

from __future__ import annotations

import contextlib
import json
import os
from collections.abc import Iterable
from pathlib import Path
from typing import Any

import numpy as np

from index.article import Article


def _article_line(article: Article) -> bytes:
    # The same record as Article.to_dict, without dataclasses.asdict's deep copy (a fifth of
    # the time of writing 68k articles); a test holds the two equal.
    record = {**vars(article), "title": article.title}
    return json.dumps(record, ensure_ascii=False).encode() + b"\n"


class ArticleFile:
    """Articles of one segment, read on demand from a JSON-lines file (thread-safe)."""

    def __init__(self, path: Path, offsets: np.ndarray) -> None:
        self.path = path
        self.offsets = offsets
        self._fd = os.open(path, os.O_RDONLY)

    def __len__(self) -> int:
        return int(self.offsets.shape[0]) - 1

    def get(self, local: int) -> Article:
        """One article by its local number."""
        return Article.from_dict(self.record(local))

    def record(self, local: int) -> dict[str, Any]:
        """One article's stored record (Article.to_dict's shape), without making an Article."""
        start, end = int(self.offsets[local]), int(self.offsets[local + 1])
        data = json.loads(os.pread(self._fd, end - start, start))
        if not isinstance(data, dict):
            raise ValueError(f"article record {local} of {self.path} is not an object")
        return data

    def close(self) -> None:
        """Release the file descriptor."""
        with contextlib.suppress(OSError):
            os.close(self._fd)

    @staticmethod
    def write(path: Path, articles: Iterable[Article]) -> np.ndarray:
        """Write articles, returning the byte offsets of each line (and of the end)."""
        offsets = [0]
        with path.open("wb") as handle:
            for article in articles:
                line = _article_line(article)
                handle.write(line)
                offsets.append(offsets[-1] + len(line))
        return np.array(offsets, dtype=np.int64)
