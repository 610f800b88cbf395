"""Settings of the search core, as plain objects built once from the configuration file: what the
index holds (`IndexParams`) and how questions are answered (`SearchSettings`)."""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any, TypeVar

from index.bm25 import BM25Params
from index.segmenter import SEGMENTERS

T = TypeVar("T")


@dataclass(frozen=True)
class IndexParams:
    """Everything that changes what the index holds; a change means a rebuild."""

    k1: float = 1.5
    b: float = 0.75
    epsilon: float = 0.25
    title_weight: int = 3
    caption_weight: int = 1
    # "auto" (rjieba when installed, else jieba), "rjieba" or "jieba"; the index records which ran.
    segmenter: str = "auto"

    def __post_init__(self) -> None:
        if self.segmenter not in ("auto", *SEGMENTERS):
            raise ValueError(f"segmenter: expected auto, {', '.join(SEGMENTERS)}, got {self.segmenter!r}")

    @property
    def bm25(self) -> BM25Params:
        """The scoring part."""
        return BM25Params(self.k1, self.b, self.epsilon)


@dataclass(frozen=True)
class SearchSettings:
    """How questions are answered."""

    # Share (by idf) of a question's words an article must contain to count as an answer.
    min_coverage: float = 0.5
    results_per_page: int = 3
    snippet_chars: int = 200
    # How many BM25 candidates are checked for coverage and paged through.
    candidates: int = 30
    # Ranking (see index/ranking.py): the bigram field's weight beside the word field's (each
    # divided by its best score), and the proximity rerank's weight and window (characters).
    bigram_weight: float = 1.0
    proximity_weight: float = 0.4
    proximity_window: int = 30
    # Estimated shingle overlap at which two results are one story shown once (1.01 = never).
    near_duplicate_similarity: float = 0.5


def from_mapping(cls: type[T], data: dict[str, Any] | None) -> T:
    """A settings dataclass from a mapping; unknown keys raise ValueError, types are coerced."""
    data = dict(data or {})
    known = {f.name: f for f in fields(cls)}  # type: ignore[arg-type]
    unknown = set(data) - set(known)
    if unknown:
        raise ValueError(f"unknown setting(s) for {cls.__name__}: {', '.join(sorted(unknown))}")
    values: dict[str, Any] = {}
    for name, value in data.items():
        default = getattr(cls, name, None)
        if isinstance(default, bool):
            if not isinstance(value, bool):  # bool("no") is True: a string is never a boolean
                raise ValueError(f"{cls.__name__}.{name}: expected true or false, got {value!r}")
            values[name] = value
        elif isinstance(default, int):
            values[name] = int(value)
        elif isinstance(default, float):
            values[name] = float(value)
        else:
            values[name] = value
    return cls(**values)


__all__ = ["IndexParams", "SearchSettings", "from_mapping"]
