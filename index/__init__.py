"""newsbot's search library: community-newspaper issues in, answers out.

This package never imports `bot` or `telegram`; the application is built on top of it. Its public
API, by what it holds (import from here; the modules behind it may move):

- reading issues: `Article`, `Issue`, `load_corpus`, `read_manifest`, `Skipped`, `issue_text`
  (a .txt or .pdf upload as text), `parse_text`, `parse_upload`;
- searching: `SearchEngine` (with `SearchResponse`, `SearchResult`, `Snippet`), `street_matches`,
  `SearchSettings`;
- the on-disk index: `open_engine` (load, or build when stale) with its `OpenReport`,
  `EngineHolder` (the served generation, swapped after a reindex), `IndexParams`,
  `ReindexStatus`;
- publishing into it, one writer at a time: `publish_issue`, `replace_issue`, and the errors
  `PublishError`, `DuplicateIssue`, `SameMonthIssue`;
- summaries: `summary_lines`.

Names load on first use, so `import index` costs nothing and a child process that needs only
the parser does not load the segmenter.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__version__ = "0.1.0"

_HOMES = {
    "Article": "index.article",
    "Issue": "index.records",
    "Skipped": "index.records",
    "load_corpus": "index.corpus",
    "read_manifest": "index.manifest",
    "issue_text": "index.publish",
    "parse_text": "index.publish",
    "parse_upload": "index.publish",
    "publish_issue": "index.publish",
    "replace_issue": "index.publish",
    "PublishError": "index.publish",
    "DuplicateIssue": "index.publish",
    "SameMonthIssue": "index.publish",
    "SearchEngine": "index.search",
    "SearchResponse": "index.search_response",
    "SearchResult": "index.search_response",
    "street_matches": "index.issue_catalog",
    "Snippet": "index.snippet",
    "SearchSettings": "index.settings",
    "IndexParams": "index.settings",
    "open_engine": "index.maintenance",
    "OpenReport": "index.maintenance",
    "EngineHolder": "index.maintenance",
    "ReindexStatus": "index.maintenance",
    "summary_lines": "index.summary",
}
__all__ = [
    "Article",
    "DuplicateIssue",
    "EngineHolder",
    "IndexParams",
    "Issue",
    "OpenReport",
    "PublishError",
    "ReindexStatus",
    "SameMonthIssue",
    "SearchEngine",
    "SearchResponse",
    "SearchResult",
    "SearchSettings",
    "Skipped",
    "Snippet",
    "issue_text",
    "load_corpus",
    "open_engine",
    "parse_text",
    "parse_upload",
    "publish_issue",
    "read_manifest",
    "replace_issue",
    "street_matches",
    "summary_lines",
]

if TYPE_CHECKING:
    from index.article import Article
    from index.corpus import load_corpus
    from index.issue_catalog import street_matches
    from index.maintenance import EngineHolder, OpenReport, ReindexStatus, open_engine
    from index.manifest import read_manifest
    from index.publish import (
        DuplicateIssue,
        PublishError,
        SameMonthIssue,
        issue_text,
        parse_text,
        parse_upload,
        publish_issue,
        replace_issue,
    )
    from index.records import Issue, Skipped
    from index.search import SearchEngine
    from index.search_response import SearchResponse, SearchResult
    from index.settings import IndexParams, SearchSettings
    from index.snippet import Snippet
    from index.summary import summary_lines


def __getattr__(name: str) -> Any:
    home = _HOMES.get(name)
    if home is None:
        raise AttributeError(f"module 'index' has no attribute {name!r}")
    value = getattr(importlib.import_module(home), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return [*globals(), *__all__]
