"""What answering a question returns: the results, or the problem with the question and its
message, in the JSON shape of `newsbot search --json` (see README); and how much of a question
is read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from index.article import Article
from index.scope import Scope
from index.snippet import Snippet

MAX_QUESTION_CHARS = 4096

PROBLEM_EMPTY = "empty"
PROBLEM_NO_WORDS = "no_words"
PROBLEM_VAGUE = "vague"
PROBLEM_MESSAGES = {
    PROBLEM_EMPTY: "请输入想查找的内容，例如：垃圾分类、社区义诊、积水点改造。",
    PROBLEM_NO_WORDS: "这个问题里没有可以查找的关键词，请换个说法，例如加上地点或活动名称。",
    PROBLEM_VAGUE: "这个问题太宽泛了，请加上更具体的词，例如活动、小区或单位的名称。",
}


@dataclass
class SearchResult:
    """One article that answers the question."""

    article: Article
    doc: int
    score: float
    coverage: float
    snippet: Snippet
    # Near-identical articles folded into this one (the same story elsewhere), best first.
    similar: list[Article] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of a result (see README: `newsbot search --json`)."""
        a = self.article
        return {
            "id": a.id,
            "title": a.title,
            "headline": a.headline,
            "street": a.street,
            "issue": a.issue,
            "date": a.date,
            "score": round(self.score, 6),
            "snippet": self.snippet.text,
            "text": a.body,
            "highlights": [list(span) for span in self.snippet.highlights],
            "newspaper": a.newspaper,
            "coverage": round(self.coverage, 4),
            "similar": len(self.similar),
            "similar_ids": [s.id for s in self.similar],
        }


@dataclass
class SearchResponse:
    """The answer to one question: results (possibly none), or the problem with the question."""

    query: str
    tokens: list[str] = field(default_factory=list)
    results: list[SearchResult] = field(default_factory=list)
    total: int = 0
    offset: int = 0
    problem: str | None = None
    scope: Scope | None = None
    # True when the question only named a street and/or a time: the results are an issue's articles.
    listing: bool = False
    # The question as it was answered when a homophone typo was corrected (社区义珍 → 社区义诊).
    suggestion: str = ""

    @property
    def message(self) -> str:
        """A resident-facing explanation when the question could not be searched."""
        return PROBLEM_MESSAGES.get(self.problem or "", "")

    def to_dict(self) -> dict[str, Any]:
        """The JSON shape of a response."""
        data: dict[str, Any] = {
            "query": self.query,
            "results": [r.to_dict() for r in self.results],
            "total": self.total,
        }
        if self.problem:
            data["error"] = self.problem
            data["message"] = self.message
        if self.scope is not None and self.scope.active:
            data["scope"] = {
                "street": self.scope.street,
                "months": sorted(self.scope.months),
                "years": sorted(self.scope.years),
                "latest": self.scope.latest,
            }
        if self.listing:
            data["listing"] = True
        if self.suggestion:
            data["suggestion"] = self.suggestion
        return data
