"""The records a corpus is read into, beside `Article` (index.article): an `Issue`, and a
`Skipped` file (or line) with the reason it was not read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Skipped:
    """A file (or a line of one) that was not read, and why."""

    path: str
    reason: str

    def __str__(self) -> str:
        return f"{self.path}: {self.reason}"


@dataclass
class Issue:
    """One newspaper issue (or one imported archive file) and what the manifest says of it."""

    id: str
    file: str
    street: str = ""
    district: str = ""
    newspaper: str = ""
    month: str = ""
    article_ids: list[str] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """Plain data for the index directory."""
        return dict(self.__dict__)
