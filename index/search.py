"""Answering a question: reading it (words, street and time, typos), its candidates (index.candidates),
snippets; issue look-ups and summaries come from index.issue_catalog.

`SearchEngine` wraps one loaded index and is safe to call from several threads. It is the
whole interface the bot and the command line use.
"""

from __future__ import annotations

import functools
import logging
from pathlib import Path

import numpy as np

from index.answer_kind import asked_kinds
from index.candidates import VAGUE_DF_SHARE, ArticleText, CandidateScoring, ScoreBuffers
from index.issue_catalog import IssueCatalog
from index.loaded_index import LoadedIndex
from index.loading import load_index
from index.normalize import for_matching, has_cjk, normalize_query, strip_symbols
from index.records import Issue
from index.scope import Scope
from index.search_response import (
    MAX_QUESTION_CHARS,
    PROBLEM_EMPTY,
    PROBLEM_NO_WORDS,
    PROBLEM_VAGUE,
    SearchResponse,
    SearchResult,
)
from index.settings import SearchSettings
from index.snippet import best_snippet
from index.tokenize import default_query_fillers
from index.tolerance import EXPANSION_WEIGHT, Correction, alternatives_for, correct_typos, prefer_corrected
from index.tolerance import prepare as prepare_typo_tables

log = logging.getLogger(__name__)

MATCH_TEXT_CACHE_SIZE = 4096
# From this many articles (an archive, not a test corpus) an engine prepares its typo tables on opening.
PREPARE_TYPOS_DOCS = 10_000


class SearchEngine(IssueCatalog, CandidateScoring):
    """Questions in, articles out, over one loaded index."""

    def __init__(self, index: LoadedIndex, settings: SearchSettings | None = None) -> None:
        self.index = index
        self.settings = settings or SearchSettings()
        self._match_text = functools.lru_cache(maxsize=MATCH_TEXT_CACHE_SIZE)(self._read_match_text)
        # Each issue's document numbers, looked up once: a street or month in a question filters
        # by them, and an archive issue holds tens of thousands of articles.
        self._issue_docs: dict[str, np.ndarray] = {}
        # Each thread's score arrays, reused question after question (see BM25Index.scores).
        self._buffers = ScoreBuffers()
        index.tokenizer.initialize()
        if index.n_docs >= PREPARE_TYPOS_DOCS:
            # Made now, while little else is in memory: made on the first typo, their passing
            # peak would come on top of every cache.
            prepare_typo_tables()

    @classmethod
    def open(cls, directory: Path, settings: SearchSettings | None = None) -> SearchEngine:
        """Load an index directory (raises IndexUnusable)."""
        return cls(load_index(directory), settings)

    # --- questions -------------------------------------------------------------------

    def analyze(self, question: str) -> tuple[list[str], str | None]:
        """The question's search tokens, or the problem that prevents searching it."""
        question = question[:MAX_QUESTION_CHARS]
        if not strip_symbols(question).strip():
            return [], PROBLEM_EMPTY
        ids = self.index.term_ids
        fillers = default_query_fillers()
        tokens: list[str] = []
        for word, pieces in self.index.tokenizer.query_words(question):
            if word in fillers:
                continue
            known = [p for p in pieces if p in ids and p not in fillers]
            tokens.extend([word] if word in ids or not known else known)
        if not tokens:
            visible = strip_symbols(question).strip()
            if not any(ch.isalnum() for ch in visible) and not has_cjk(visible):
                return [], PROBLEM_EMPTY
            return [], PROBLEM_NO_WORDS
        return tokens, None

    def _listing(self, response: SearchResponse, issues: list[Issue], limit: int, offset: int) -> SearchResponse:
        """An issue's articles, for a question that only names a street and/or a time."""
        if response.scope is not None and not response.scope.has_time and issues:
            issues = issues[:1]  # a street alone: its newest issue
        docs = [
            doc for issue in issues for doc in (self.index.doc_number(a) for a in issue.article_ids) if doc is not None
        ]
        response.listing = True
        response.total = len(docs)
        for doc in docs[offset : offset + limit]:
            article = self.index.article(doc)
            snippet = best_snippet(article.body, {}, article.captions, self.settings.snippet_chars)
            response.results.append(SearchResult(article, doc, 0.0, 1.0, snippet))
        return response

    def search(self, question: str, limit: int | None = None, offset: int = 0) -> SearchResponse:
        """The articles that answer `question`, best first, `limit` of them from `offset`."""
        limit = self.settings.results_per_page if limit is None else max(0, limit)
        offset = max(0, offset)
        response = SearchResponse(query=question, offset=offset)
        scope = self.scope_of(question)
        response.scope = scope
        allowed: np.ndarray | None = None
        issues: list[Issue] = []
        if scope.active:
            issues = self.scope_issues(scope)
            if not issues and scope.has_time:
                # No issue of that time (of that street): look in the street's issues.
                issues = self.scope_issues(Scope(street=scope.street))
            allowed = self._allowed_docs(issues) if issues else None
        rest = scope.rest if scope.active else question
        tokens, problem = self.analyze(rest)
        response.tokens = tokens
        if problem == PROBLEM_NO_WORDS and scope.active and issues:
            return self._listing(response, issues, limit, offset)
        if problem:
            response.problem = problem
            return response
        if self.is_vague(tokens):
            if scope.active and issues:
                return self._listing(response, issues, limit, offset)
            response.problem = PROBLEM_VAGUE
            return response
        k = max(self.settings.candidates, offset + limit)
        ranked, tokens, alternatives, response.suggestion = self._tolerant_rank(
            question, scope.rest if scope.active else question, tokens, k, allowed
        )
        response.tokens = tokens
        groups = self.collapse_similar(ranked)
        response.total = len(groups)
        weights = self.term_weights(tokens)
        for term, others in alternatives.items():
            for other in others:
                weights.setdefault(for_matching(other), EXPANSION_WEIGHT * weights.get(term, 0.0))
        kinds = asked_kinds(normalize_query(question[:MAX_QUESTION_CHARS]))
        tools = self.index.tokenizer
        for (doc, score, coverage), similar in groups[offset : offset + limit]:
            article = self.index.article(doc)
            snippet = best_snippet(article.body, weights, article.captions, self.settings.snippet_chars, kinds, tools)
            folded = [self.index.article(d) for d in similar]
            response.results.append(SearchResult(article, doc, score, coverage, snippet, folded))
        return response

    def _tolerant_rank(
        self, question: str, text: str, tokens: list[str], k: int, allowed: np.ndarray | None
    ) -> tuple[list[tuple[int, float, float]], list[str], dict[str, list[str]], str]:
        """`rank` with everyday-word alternatives, and with homophone typos corrected when that
        answers better (index.tolerance): (ranked, tokens, alternatives, the corrected question or "")."""
        alternatives = alternatives_for(tokens)
        ranked = self.rank(tokens, k, allowed, alternatives, question=text)
        ids = self.index.term_ids
        # Only a word no article holds can be a typo (analyze keeps such a word whole).
        if all(t in ids for t in tokens):
            return ranked, tokens, alternatives, ""
        correction = self.typo_correction(text)
        if correction.replaced and ranked:
            # A word the best answer has in its text is a name or term the segmenter cut differently
            # (清花高速, 段刘愚), not a typo.
            best = ArticleText(self._match_text(ranked[0][0]))
            correction.replaced = {w: r for w, r in correction.replaced.items() if not best.contains(w)}
        if not correction.replaced:
            return ranked, tokens, alternatives, ""
        fixed_text = correction.apply(text)
        fixed_tokens, fixed_problem = self.analyze(fixed_text)
        fixed_alternatives = alternatives_for(fixed_tokens)
        fixed = [] if fixed_problem else self.rank(fixed_tokens, k, allowed, fixed_alternatives, question=fixed_text)
        if not prefer_corrected(ranked[:1], fixed[:1]):
            return ranked, tokens, alternatives, ""
        return fixed, fixed_tokens, fixed_alternatives, correction.apply(question[:MAX_QUESTION_CHARS]).strip()

    def typo_correction(self, question: str) -> Correction:
        """Homophone corrections of the question's words that no article holds (index.tolerance)."""
        ids = self.index.term_ids
        df = self.index.bm25.df
        fillers = default_query_fillers()
        words = [(w, p) for w, p in self.index.tokenizer.query_words(question[:MAX_QUESTION_CHARS]) if w not in fillers]
        return correct_typos(words, lambda w: w in ids, lambda w: int(df[ids[w]]), ids.has_prefix)

    def is_vague(self, tokens: list[str]) -> bool:
        """True when every word of the question is in most articles (社区, 街道...)."""
        bm25 = self.index.bm25
        if bm25.n_docs < 10:
            return False
        ids = self.index.term_ids
        limit = VAGUE_DF_SHARE * bm25.n_docs
        return all(t in ids and bm25.df[ids[t]] > limit for t in tokens)

    def raw_top(self, question: str, k: int) -> list[tuple[int, float]]:
        """BM25 ranking without the no-answer check (for evaluation and benchmarks)."""
        tokens, problem = self.analyze(question)
        if problem:
            return []
        ids = self.index.term_ids
        return self.index.bm25.top([ids[t] for t in tokens if t in ids], k)
