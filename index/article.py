"""The article record every part of the search core passes around."""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

LEAD_HEADLINE_CHARS = 30


@dataclass
class Article:
    """One article of one issue (or one imported archive record).

    `body` holds the running text, one paragraph a line; photo captions are kept apart in
    `captions` so they never cut a sentence of the body.
    """

    id: str
    headline: str
    body: str
    issue: str = ""
    street: str = ""
    district: str = ""
    newspaper: str = ""
    date: str = ""
    kicker: str = ""
    subtitle: str = ""
    byline: str = ""
    source: str = ""
    captions: list[str] = field(default_factory=list)
    # True when the headline was made from the text because the record had no title.
    derived_headline: bool = False

    @property
    def title(self) -> str:
        """Kicker, headline and subtitle joined by spaces."""
        return " ".join(part for part in (self.kicker, self.headline, self.subtitle) if part)

    @property
    def index_title(self) -> str:
        """The title text that is weighted as a title when ranking (none for derived ones)."""
        return "" if self.derived_headline else self.title

    def to_dict(self) -> dict[str, Any]:
        """Plain data for JSON files and command-line output."""
        data = asdict(self)
        data["title"] = self.title
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Article:
        """The inverse of `to_dict`."""
        known = {name for name in cls.__dataclass_fields__}
        return cls(**{key: value for key, value in data.items() if key in known})


def lead_headline(text: str, limit: int = LEAD_HEADLINE_CHARS) -> str:
    """A headline for a record without one: its first sentence, shortened."""
    text = text.strip()
    for stop in "。！？!?\n":
        pos = text.find(stop)
        if 0 < pos < limit:
            return text[:pos]
    return text[:limit] + ("…" if len(text) > limit else "")
