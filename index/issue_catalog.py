"""The issues of a loaded index, for `SearchEngine`: look-ups by id, street and month, their
articles and summaries, and the documents within a question's street and time."""

from __future__ import annotations

import numpy as np

from index.article import Article
from index.loaded_index import LoadedIndex
from index.normalize import for_matching
from index.records import Issue
from index.scope import Scope, parse_scope, street_aliases
from index.search_response import MAX_QUESTION_CHARS
from index.summary import lead_line


def street_matches(street: str, wanted: str) -> bool:
    """True when a street name matches what a resident typed (芷江西路 ~ 芷江西路街道)."""
    a, b = for_matching(street).replace(" ", ""), for_matching(wanted).replace(" ", "")
    if not a or not b:
        return False
    for suffix in ("街道", "镇"):
        a, b = a.removesuffix(suffix), b.removesuffix(suffix)
    return a == b or (len(b) >= 2 and b in a) or (len(a) >= 2 and a in b)


class IssueCatalog:
    """The issue look-ups of `SearchEngine` (which sets `index` and `_issue_docs`)."""

    index: LoadedIndex
    # Each issue's document numbers, looked up once.
    _issue_docs: dict[str, np.ndarray]

    # --- street and time ---------------------------------------------------------------

    def scope_of(self, question: str) -> Scope:
        """The street and issue month a question names (times only for dated issues)."""
        issues = self.index.issues
        streets: dict[str, set[str]] = {}
        for issue in issues:
            if issue.street:
                streets.setdefault(issue.street, set()).update(street_aliases(issue.street, [issue.newspaper]))
        months = [i.month for i in issues if i.month]
        newest = max(months) if months else ""
        # Without issue months (news at scale) a date in the question is content, not scope.
        return parse_scope(question[:MAX_QUESTION_CHARS], streets, newest)

    def scope_issues(self, scope: Scope) -> list[Issue]:
        """The issues within a question's street and time, newest first (the newest one for 最新一期)."""
        chosen = [
            i
            for i in self.index.issues
            if (not scope.street or i.street == scope.street) and (not i.month or scope.month_matches(i.month))
        ]
        if scope.has_time:
            chosen = [i for i in chosen if i.month]
        chosen.sort(key=lambda i: i.month, reverse=True)
        if scope.latest and chosen:
            newest = chosen[0].month
            chosen = [i for i in chosen if i.month == newest]
        return chosen

    def _docs_of(self, issue: Issue) -> np.ndarray:
        docs = self._issue_docs.get(issue.id)
        if docs is None:
            numbers = (self.index.doc_number(a) for a in issue.article_ids)
            docs = np.array([d for d in numbers if d is not None], dtype=np.int64)
            self._issue_docs[issue.id] = docs
        return docs

    def _allowed_docs(self, issues: list[Issue]) -> np.ndarray:
        mask = np.zeros(self.index.bm25.n_docs, dtype=bool)
        for issue in issues:
            docs = self._docs_of(issue)
            mask[docs[docs < mask.shape[0]]] = True
        return mask

    # --- articles and issues ---------------------------------------------------------

    def article(self, article_id: str) -> Article | None:
        """An article by id."""
        doc = self.index.doc_number(article_id)
        return None if doc is None else self.index.article(doc)

    @property
    def issues(self) -> list[Issue]:
        """Every issue in the index."""
        return self.index.issues

    def streets(self) -> list[str]:
        """The streets that have issues, in name order."""
        return sorted({i.street for i in self.index.issues if i.street})

    def find_issue(self, wanted: str) -> Issue | None:
        """An issue by id, unique id prefix, or file name."""
        wanted = wanted.strip()
        exact = [i for i in self.index.issues if wanted in (i.id, i.file)]
        if exact:
            return exact[0]
        matches = [i for i in self.index.issues if i.id.startswith(wanted)]
        return matches[0] if len(matches) == 1 else None

    def latest_issue(self, street: str | None = None) -> Issue | None:
        """The newest issue (of a street, when given)."""
        candidates = [
            (i.month, number, i)
            for number, i in enumerate(self.index.issues)
            if not street or street_matches(i.street, street)
        ]
        if not candidates:
            return None
        return max(candidates, key=lambda c: (c[0], c[1]))[2]

    def issue_articles(self, issue: Issue) -> list[Article]:
        """The articles of an issue in print order."""
        out = []
        for article_id in issue.article_ids:
            article = self.article(article_id)
            if article is not None:
                out.append(article)
        return out

    def summary(self, issue: Issue) -> list[tuple[Article, str]]:
        """(article, key sentence) for each article of the issue."""
        return [(a, lead_line(a)) for a in self.issue_articles(issue)]
