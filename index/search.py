"""Answering a question: BM25 candidates, the no-answer check, snippets; issue look-ups and summaries.

`SearchEngine` wraps one loaded index and is safe to call from several threads. It is the
whole interface the bot and the command line use.
"""

from __future__ import annotations

import functools
import logging
import threading
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from index.answer_kind import asked_kinds
from index.article import Article
from index.bigram import token_bigrams
from index.loaded_index import LoadedIndex
from index.loading import load_index
from index.neardup import fold_similar
from index.normalize import for_matching, has_cjk, normalize_query, strip_symbols
from index.ranking import FusionSettings, fused_scores, proximity, top_docs
from index.records import Issue
from index.scope import Scope, parse_scope, street_aliases
from index.settings import SearchSettings
from index.snippet import Snippet, best_snippet, fold
from index.summary import lead_line
from index.tokenize import default_query_fillers
from index.tolerance import EXPANSION_WEIGHT, Correction, alternatives_for, correct_typos, prefer_corrected
from index.tolerance import prepare as prepare_typo_tables

log = logging.getLogger(__name__)

MAX_QUESTION_CHARS = 4096
MATCH_TEXT_CACHE_SIZE = 4096
# From this many articles (an archive, not a test corpus) an engine prepares its typo tables on opening.
PREPARE_TYPOS_DOCS = 10_000

PROBLEM_EMPTY = "empty"
PROBLEM_NO_WORDS = "no_words"
PROBLEM_VAGUE = "vague"
# A word found in more than this share of the articles tells nothing about which one is meant.
VAGUE_DF_SHARE = 0.5
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


def street_matches(street: str, wanted: str) -> bool:
    """True when a street name matches what a resident typed (芷江西路 ~ 芷江西路街道)."""
    a, b = for_matching(street).replace(" ", ""), for_matching(wanted).replace(" ", "")
    if not a or not b:
        return False
    for suffix in ("街道", "镇"):
        a, b = a.removesuffix(suffix), b.removesuffix(suffix)
    return a == b or (len(b) >= 2 and b in a) or (len(a) >= 2 and a in b)


class _ArticleText:
    """An article's text, folded (width, case) only when a question word needs it."""

    def __init__(self, raw: str) -> None:
        self.raw = raw
        self._folded: str | None = None

    def contains(self, term: str) -> bool:
        """Whether the folded text contains the (already folded) term."""
        if term in self.raw:
            return True
        # Chinese characters fold to themselves; only Latin letters, digits and symbols can
        # differ between the question's folded form and the article's own.
        if all(ord(ch) >= 0x3000 for ch in term):
            return False
        if self._folded is None:
            self._folded = fold(self.raw)
        return term in self._folded


class _Buffers(threading.local):
    """One thread's n_docs score arrays, by name."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}


class SearchEngine:
    """Questions in, articles out, over one loaded index."""

    def __init__(self, index: LoadedIndex, settings: SearchSettings | None = None) -> None:
        self.index = index
        self.settings = settings or SearchSettings()
        self._match_text = functools.lru_cache(maxsize=MATCH_TEXT_CACHE_SIZE)(self._read_match_text)
        # Each issue's document numbers, looked up once: a street or month in a question filters
        # by them, and an archive issue holds tens of thousands of articles.
        self._issue_docs: dict[str, np.ndarray] = {}
        # Each thread's score arrays, reused question after question (see BM25Index.scores).
        self._buffers = _Buffers()
        index.tokenizer.initialize()
        if index.n_docs >= PREPARE_TYPOS_DOCS:
            # Made now, while little else is in memory: made on the first typo, the passing
            # peak of the dictionary's prefix table would come on top of every cache.
            prepare_typo_tables(index.tokenizer.starts_a_word)

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
            best = _ArticleText(self._match_text(ranked[0][0]))
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
        tokenizer = self.index.tokenizer
        return correct_typos(words, lambda w: w in ids, lambda w: int(df[ids[w]]), tokenizer.starts_a_word)

    def is_vague(self, tokens: list[str]) -> bool:
        """True when every word of the question is in most articles (社区, 街道...)."""
        bm25 = self.index.bm25
        if bm25.n_docs < 10:
            return False
        ids = self.index.term_ids
        limit = VAGUE_DF_SHARE * bm25.n_docs
        return all(t in ids and bm25.df[ids[t]] > limit for t in tokens)

    def term_weights(self, tokens: list[str]) -> dict[str, float]:
        """Each distinct query token and its importance (coverage idf)."""
        ids = self.index.term_ids
        bm25 = self.index.bm25
        return {t: bm25.coverage_idf(ids.get(t)) for t in dict.fromkeys(tokens)}

    def coverage_weights(self, tokens: list[str]) -> dict[str, float]:
        """How much each question word counts in the no-answer check.

        Words the index knows weigh their idf. A word no article was ever segmented into is
        judged by what it is: Latin letters or digits (English, "thanks", model numbers) and
        single characters count nothing, since a resident's filler must not sink a clear
        match; words in most articles (社区, 街道) count nothing either, or a question would
        be half answered by every article; a Chinese word counts as much as an average known word of the question, so a
        question about something the papers never mention (游泳馆, 招生) still gets nothing,
        while one odd word among several that match does not outweigh them all.
        """
        weights = self.term_weights(tokens)
        ids = self.index.term_ids
        bm25 = self.index.bm25
        common = VAGUE_DF_SHARE * bm25.n_docs if bm25.n_docs >= 10 else float("inf")
        vague = {t for t in weights if t in ids and bm25.df[ids[t]] > common}
        known = [w for t, w in weights.items() if t in ids and t not in vague]
        mean_known = sum(known) / len(known) if known else 0.0
        out: dict[str, float] = {}
        for term, weight in weights.items():
            if term in vague:
                out[term] = 0.0
            elif term in ids:
                out[term] = weight
            elif len(term) >= 2 and has_cjk(term):
                out[term] = mean_known or weight
            else:
                out[term] = 0.0
        return out

    def query_codes(self, tokens: list[str], question: str = "") -> list[int]:
        """The bigram ids of the question's kept words (see `index.bigram.query_bigrams`).

        Neighbouring kept words join into one run when the question has them side by side,
        so 垃圾 分类 gives 圾分 too; a question or filler word between them breaks the run.
        """
        return token_bigrams(tokens, normalize_query(question[:MAX_QUESTION_CHARS]) if question else "")

    def fusion(self) -> FusionSettings:
        """The ranking settings in the form `index.ranking` takes."""
        s = self.settings
        return FusionSettings(s.bigram_weight, s.proximity_weight, s.proximity_window)

    def rank(
        self,
        tokens: list[str],
        k: int,
        allowed: np.ndarray | None = None,
        alternatives: dict[str, list[str]] | None = None,
        question: str = "",
    ) -> list[tuple[int, float, float]]:
        """(document, score, coverage) of the top-k documents that cover the question enough.

        Candidates come from the fused word and bigram fields; the score is that score plus
        the weighted proximity of the question's bigrams in the text (`index.ranking`), times
        the coverage.

        Coverage is the idf-weighted share of the question's words found in the article's
        text. It is checked on the text itself rather than on tokens because the segmenter
        may cut the same words differently in a question and in an article (农家乐 vs 农家乐趣).
        """
        ids = self.index.term_ids
        term_list = [ids[t] for t in tokens if t in ids]
        # Everyday/official alternatives (index.tolerance) rank at a lower weight and count as the word itself.
        others = {t: [for_matching(a) for a in alts if len(a) >= 2] for t, alts in (alternatives or {}).items()}
        extra = [ids[a] for alts in others.values() for a in alts if a in ids]
        weights = self.coverage_weights(tokens)
        total_weight = sum(weights.values()) or 1.0
        codes = self.query_codes(tokens, question)
        kept: list[tuple[int, float, float, str]] = []
        # A Chinese word of two or more characters is found in the raw text as it is (see
        # _ArticleText.contains); only the others need the slower checks.
        checks = [
            (term, w, len(term) >= 2 and all(ord(ch) >= 0x3000 for ch in term), others.get(term))
            for term, w in weights.items()
        ]
        for doc, score in self._top(term_list, k, allowed, codes, extra):
            raw = self._match_text(doc)
            text = _ArticleText(raw)
            coverage = (
                sum(
                    [
                        w
                        for term, w, plain, alts in checks
                        if (term in raw if plain else self._contains(term, text, doc))
                        or (alts is not None and any(text.contains(a) for a in alts))
                    ]
                )
                / total_weight
            )
            if coverage > self.settings.min_coverage:
                kept.append((doc, score, coverage, raw))
        fusion = self.fusion()
        near = np.zeros(len(kept))
        if fusion.proximity_weight > 0.0:
            near = proximity([row[3] for row in kept], self.index.bigrams, codes, fusion.window)
        ranked = [
            (doc, (score + fusion.proximity_weight * float(close)) * coverage, coverage)
            for (doc, score, coverage, _), close in zip(kept, near, strict=True)
        ]
        # Among the BM25 candidates, articles that contain more of the question come first
        # (Lucene's classic "coordination" factor): BM25 alone lets one rare word outweigh
        # several ordinary ones that together say what the resident asks about.
        ranked.sort(key=lambda row: (-row[1], row[0]))
        return ranked

    def _top(
        self,
        term_list: list[int],
        k: int,
        allowed: np.ndarray | None,
        codes: list[int],
        extra: list[int] | None = None,
    ) -> list[tuple[int, float]]:
        """The fused top k (document, score), only among the `allowed` documents when given;
        `extra` (everyday-word alternatives) count EXPANSION_WEIGHT in the word field."""
        bm25 = self.index.bm25
        buffers = self._buffers.arrays
        words = buffers["words"] = bm25.scores(term_list, buffers.get("words"))
        if extra:
            others = buffers["extra"] = bm25.scores(extra, buffers.get("extra"))
            words += np.multiply(others, EXPANSION_WEIGHT, out=others)
        bigrams = None
        if codes and self.settings.bigram_weight > 0.0:
            bigrams = buffers["bigrams"] = self.index.bigrams.scores(codes, buffers.get("bigrams"))
        scores = fused_scores(words, bigrams, self.settings.bigram_weight, allowed)
        return [(int(d), float(scores[d])) for d in top_docs(scores, k).tolist()]

    def collapse_similar(
        self, ranked: list[tuple[int, float, float]]
    ) -> list[tuple[tuple[int, float, float], list[int]]]:
        """Ranked rows with the near-identical ones folded into the best of them: (row, folded docs)."""
        return fold_similar(ranked, self.index.minhash, self.settings.near_duplicate_similarity)

    def _read_match_text(self, doc: int) -> str:
        """An article's text as questions are matched against it."""
        # Read past the article cache, as a plain record: most candidates are checked and
        # dropped, and the text kept here (one string) is all a candidate needs.
        record = self.index.read_record(doc)
        title = " ".join(p for p in (record.get("kicker"), record.get("headline"), record.get("subtitle")) if p)
        where = [str(record.get(name) or "") for name in ("street", "district", "newspaper")]
        return "\n".join([title, *where, str(record.get("body") or ""), *(record.get("captions") or [])])

    def _contains(self, term: str, text: _ArticleText, doc: int) -> bool:
        """Whether an article has a question word: by text, or for one character by token
        (交 would otherwise be found inside 交流, 外交 ...)."""
        if len(term) >= 2:
            return text.contains(term)
        term_id = self.index.term_ids.get(term)
        return term_id is not None and self.index.bm25.doc_has_term(doc, term_id)

    def raw_top(self, question: str, k: int) -> list[tuple[int, float]]:
        """BM25 ranking without the no-answer check (for evaluation and benchmarks)."""
        tokens, problem = self.analyze(question)
        if problem:
            return []
        ids = self.index.term_ids
        return self.index.bm25.top([ids[t] for t in tokens if t in ids], k)

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
