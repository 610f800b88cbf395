"""Measuring answer quality on labelled questions.

Two formats are read:
- YAML like `eval/dev_questions.yaml`: positives (`q`, `gold` title substrings, optional
  `answer` and `kind`) and negatives (questions with no answer). Reports hit@3, MRR@5,
  answer-in-snippet and negatives answered with nothing, overall and per `kind` (street:
  gold at rank 1; answer: the answer inside the gold article's snippet; plain), and the
  precision and recall of the no-answer check.
- JSONL like `bench/dev_questions.jsonl`: `{"q", "gold": article id, "answer"}` a line.
  Reports recall@1/5/10 and MRR@10 of the answer path residents get (no-answer check on)
  and, apart, of the plain BM25 ranking (word field only, no check); an answer-aware score
  where a result also counts when its text contains the question's answer (4+ characters:
  many questions are answered by several articles); and how often the no-answer check
  turned an answerable question away.
"""

from __future__ import annotations

import json
import re
import unicodedata
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import yaml

from index.search import SearchEngine

_STRIP_RE = re.compile(r"[\s\"'“”‘’「」『』《》]")


def title_key(text: str) -> str:
    """A title compared as the eval file says: NFKC, no whitespace, no quote marks."""
    return _STRIP_RE.sub("", unicodedata.normalize("NFKC", text))


@dataclass
class Positive:
    """A question with a known answer."""

    q: str
    gold: list[str]
    answer: str = ""
    kind: str = ""


@dataclass
class QuestionSet:
    """A parsed evaluation file."""

    kind: str  # "titles" (YAML) or "ids" (JSONL)
    positives: list[Positive] = field(default_factory=list)
    negatives: list[str] = field(default_factory=list)


def read_questions(path: Path) -> QuestionSet:
    """Read either evaluation format; raises ValueError on a malformed file."""
    if path.suffix in (".jsonl", ".json"):
        out = QuestionSet(kind="ids")
        for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
            if not line.strip():
                continue
            try:
                record = json.loads(line)
                out.positives.append(Positive(str(record["q"]), [str(record["gold"])], str(record.get("answer", ""))))
            except (json.JSONDecodeError, KeyError, TypeError) as exc:
                raise ValueError(f"{path}:{number}: not a question record ({exc})") from exc
        return out
    data = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping with 'positives' and 'negatives'")
    out = QuestionSet(kind="titles")
    for item in data.get("positives") or []:
        gold = item.get("gold") or []
        out.positives.append(
            Positive(str(item["q"]), [str(g) for g in gold], str(item.get("answer") or ""), str(item.get("kind") or ""))
        )
    out.negatives = [str(q) for q in data.get("negatives") or []]
    return out


@dataclass
class EvalRow:
    """How one question went."""

    q: str
    rank: int | None  # 1-based rank of the first gold result, None when missing
    answer_in_snippet: bool | None = None
    returned: int = 0
    kind: str = ""


def _first_gold_rank(keys: Sequence[str], gold: Sequence[str], by_title: bool) -> int | None:
    for position, key in enumerate(keys, start=1):
        if by_title:
            if any(title_key(g) in key for g in gold):
                return position
        elif key in gold:
            return position
    return None


def evaluate_titles(engine: SearchEngine, questions: QuestionSet) -> dict[str, Any]:
    """hit@3, MRR@5, answer-in-snippet and negatives for a YAML question set."""
    rows: list[EvalRow] = []
    for item in questions.positives:
        response = engine.search(item.q, limit=5)
        keys = [title_key(r.article.title) for r in response.results]
        rank = _first_gold_rank(keys, item.gold, by_title=True)
        in_snippet = None
        if item.answer and rank is not None:
            snippet = title_key(response.results[rank - 1].snippet.text)
            in_snippet = title_key(item.answer) in snippet
        rows.append(EvalRow(item.q, rank, in_snippet, len(response.results), item.kind))
    negatives = [(q, len(engine.search(q).results)) for q in questions.negatives]
    answered = [r for r in rows if r.answer_in_snippet is not None]
    n = len(rows) or 1
    return {
        "positives": len(rows),
        "hit@3": sum(1 for r in rows if r.rank is not None and r.rank <= 3) / n,
        "mrr@5": sum(1.0 / r.rank for r in rows if r.rank is not None and r.rank <= 5) / n,
        "answer_in_snippet": (sum(1 for r in answered if r.answer_in_snippet) / len(answered) if answered else None),
        "answer_questions": len(answered),
        "negatives": len(negatives),
        "negatives_empty": sum(1 for _, count in negatives if count == 0) / (len(negatives) or 1),
        "misses": [r.q for r in rows if r.rank is None or r.rank > 3],
        "negatives_answered": [q for q, count in negatives if count],
        "kinds": kind_figures(rows, [count for _, count in negatives]),
        "no_answer_check": no_answer_figures([r.returned for r in rows], [count for _, count in negatives]),
    }


def kind_figures(rows: Sequence[EvalRow], negative_counts: Sequence[int]) -> dict[str, dict[str, Any]]:
    """Figures per `kind` of question, each with the test its kind is about (`target`).

    street: the gold article at rank 1; answer: the answer inside the gold article's snippet
    (a question whose gold article is not shown fails it); plain and untagged: hit@3;
    negatives: nothing answered.
    """
    out: dict[str, dict[str, Any]] = {}
    for kind in sorted({r.kind for r in rows}, key=lambda k: (k == "", k)):
        mine = [r for r in rows if r.kind == kind]
        n = len(mine)
        figures: dict[str, Any] = {
            "questions": n,
            "hit@3": sum(1 for r in mine if r.rank is not None and r.rank <= 3) / n,
            "rank1": sum(1 for r in mine if r.rank == 1) / n,
            "mrr@5": sum(1.0 / r.rank for r in mine if r.rank is not None and r.rank <= 5) / n,
        }
        if kind == "street":
            figures["target"] = ("gold at rank 1", figures["rank1"])
        elif kind == "answer":
            share = sum(1 for r in mine if r.answer_in_snippet) / n
            figures["answer_in_snippet"] = share
            figures["target"] = ("answer in the gold snippet", share)
        else:
            figures["target"] = ("hit@3", figures["hit@3"])
        out[kind or "untagged"] = figures
    if negative_counts:
        share = sum(1 for c in negative_counts if c == 0) / len(negative_counts)
        out["negatives"] = {"questions": len(negative_counts), "target": ("nothing answered", share)}
    return out


def no_answer_figures(positive_counts: Sequence[int], negative_counts: Sequence[int]) -> dict[str, Any]:
    """Precision and recall of "nothing found" as a decision: right when the question has no answer."""
    said_none_negative = sum(1 for c in negative_counts if c == 0)
    said_none_positive = sum(1 for c in positive_counts if c == 0)
    said_none = said_none_negative + said_none_positive
    return {
        "nothing_found": said_none,
        "of_them_negatives": said_none_negative,
        "negatives": len(negative_counts),
        "positives_turned_away": said_none_positive,
        "precision": said_none_negative / said_none if said_none else None,
        "recall": said_none_negative / len(negative_counts) if negative_counts else None,
    }


def ranking_metrics(ranked_ids: Sequence[Sequence[str]], gold: Sequence[str]) -> dict[str, float]:
    """recall@1/5/10 and MRR@10 of ranked id lists against one gold id each."""
    n = len(gold) or 1
    ranks = [_first_gold_rank(ids[:10], [g], by_title=False) for ids, g in zip(ranked_ids, gold, strict=True)]
    return {
        "questions": len(gold),
        "recall@1": sum(1 for r in ranks if r is not None and r <= 1) / n,
        "recall@5": sum(1 for r in ranks if r is not None and r <= 5) / n,
        "recall@10": sum(1 for r in ranks if r is not None and r <= 10) / n,
        "mrr@10": sum(1.0 / r for r in ranks if r is not None) / n,
    }


ANSWER_MIN_CHARS = 4


def answer_aware_metrics(
    ranked_texts: Sequence[Sequence[tuple[str, str]]], positives: Sequence[Positive]
) -> dict[str, float]:
    """recall@1/5/10 and MRR@10 where a result counts when it is the gold article or its text
    holds the question's answer (only answers of ANSWER_MIN_CHARS+ characters; shorter ones,
    like a bare number, would be found by chance)."""
    ranks: list[int | None] = []
    counted = 0
    for results, item in zip(ranked_texts, positives, strict=True):
        answer = title_key(item.answer)
        usable = len(answer) >= ANSWER_MIN_CHARS
        counted += usable
        rank = None
        for position, (article_id, text) in enumerate(results[:10], start=1):
            if article_id in item.gold or (usable and answer in title_key(text)):
                rank = position
                break
        ranks.append(rank)
    n = len(positives) or 1
    return {
        "questions": len(positives),
        "with_usable_answer": counted,
        "recall@1": sum(1 for r in ranks if r is not None and r <= 1) / n,
        "recall@5": sum(1 for r in ranks if r is not None and r <= 5) / n,
        "recall@10": sum(1 for r in ranks if r is not None and r <= 10) / n,
        "mrr@10": sum(1.0 / r for r in ranks if r is not None) / n,
    }


def evaluate_ids(
    engine: SearchEngine, questions: QuestionSet, progress: Callable[[int, int], None] | None = None
) -> dict[str, Any]:
    """For a JSONL question set (gold = article id): the answer path's recall@k and MRR@10 at
    the top level, and beside them the plain BM25 ranking's, the answer-aware scores of both,
    and the no-answer check's false "nothing found"."""
    ranked: list[list[str]] = []
    answer_texts: list[list[tuple[str, str]]] = []
    plain: list[list[str]] = []
    plain_texts: list[list[tuple[str, str]]] = []
    for number, item in enumerate(questions.positives, start=1):
        response = engine.search(item.q, limit=10)
        ranked.append([r.article.id for r in response.results])
        answer_texts.append([(r.article.id, _text_of(r.article)) for r in response.results])
        articles = [engine.index.article(doc) for doc, _ in engine.raw_top(item.q, 10)]
        plain.append([a.id for a in articles])
        plain_texts.append([(a.id, _text_of(a)) for a in articles])
        if progress is not None:
            progress(number, len(questions.positives))
    gold = [p.gold[0] for p in questions.positives]
    metrics: dict[str, Any] = ranking_metrics(ranked, gold)
    metrics["answer_aware"] = answer_aware_metrics(answer_texts, questions.positives)
    metrics["plain_bm25"] = ranking_metrics(plain, gold)
    metrics["plain_bm25_answer_aware"] = answer_aware_metrics(plain_texts, questions.positives)
    metrics["no_answer_check"] = no_answer_figures([len(r) for r in ranked], [])
    return metrics


def _text_of(article: Any) -> str:
    return "\n".join([article.title, article.body, *article.captions])


def baseline_rankings(articles: Sequence[Any], questions: QuestionSet, k: int = 10) -> list[list[str]]:
    """Top-k article ids per question from the plain reference: jieba.lcut + rank-bm25 BM25Okapi.

    No normalisation, no stop words, no title weighting: what one would get out of the box.
    """
    import jieba
    import numpy as np
    from rank_bm25 import BM25Okapi

    corpus = [jieba.lcut(f"{a.index_title}\n{a.body}") for a in articles]
    bm25 = BM25Okapi(corpus)
    ids = [a.id for a in articles]
    ranked = []
    for item in questions.positives:
        scores = bm25.get_scores(jieba.lcut(item.q))
        top = np.argsort(scores)[::-1][:k]
        ranked.append([ids[i] for i in top])
    return ranked
