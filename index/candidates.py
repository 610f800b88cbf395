"""Scoring a question's candidates, for `SearchEngine`: the fused word and bigram fields, the
no-answer check (the idf-weighted share of the question's words in an article's text), the
proximity rerank, and near-duplicates folded together."""

from __future__ import annotations

import threading
from collections.abc import Callable

import numpy as np

from index.bigram import token_bigrams
from index.loaded_index import LoadedIndex
from index.neardup import fold_similar
from index.normalize import for_matching, has_cjk, normalize_query
from index.ranking import FusionSettings, fused_scores, proximity, top_docs
from index.search_response import MAX_QUESTION_CHARS
from index.settings import SearchSettings
from index.snippet import fold
from index.tolerance import EXPANSION_WEIGHT

# A word found in more than this share of the articles tells nothing about which one is meant.
VAGUE_DF_SHARE = 0.5


class ArticleText:
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


class ScoreBuffers(threading.local):
    """One thread's n_docs score arrays, by name."""

    def __init__(self) -> None:
        self.arrays: dict[str, np.ndarray] = {}


class CandidateScoring:
    """The candidate scoring of `SearchEngine` (which sets `index`, `settings`, `_match_text`
    and `_buffers`)."""

    index: LoadedIndex
    settings: SearchSettings
    # An article's text as questions are matched against it, by document (cached).
    _match_text: Callable[[int], str]
    # Each thread's score arrays, reused question after question (see BM25Index.scores).
    _buffers: ScoreBuffers

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
        # ArticleText.contains); only the others need the slower checks.
        checks = [
            (term, w, len(term) >= 2 and all(ord(ch) >= 0x3000 for ch in term), others.get(term))
            for term, w in weights.items()
        ]
        for doc, score in self._top(term_list, k, allowed, codes, extra):
            raw = self._match_text(doc)
            text = ArticleText(raw)
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

    def _contains(self, term: str, text: ArticleText, doc: int) -> bool:
        """Whether an article has a question word: by text, or for one character by token
        (交 would otherwise be found inside 交流, 外交 ...)."""
        if len(term) >= 2:
            return text.contains(term)
        term_id = self.index.term_ids.get(term)
        return term_id is not None and self.index.bm25.doc_has_term(doc, term_id)
