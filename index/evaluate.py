"""Measuring answer quality on labelled questions.

Two formats are read:
- YAML like `eval/dev_questions.yaml`: positives (`q`, `gold` title substrings, optional
  `answer`) and negatives (questions with no answer). Reports hit@3, MRR@5,
  answer-in-snippet and negatives answered with nothing.
- JSONL like `bench/dev_questions.jsonl`: `{"q", "gold": article id, "answer"}` a line.
  Reports recall@1/5/10 and MRR@10.
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
        out.positives.append(Positive(str(item["q"]), [str(g) for g in gold], str(item.get("answer") or "")))
    out.negatives = [str(q) for q in data.get("negatives") or []]
    return out


@dataclass
class EvalRow:
    """How one question went."""

    q: str
    rank: int | None  # 1-based rank of the first gold result, None when missing
    answer_in_snippet: bool | None = None
    returned: int = 0


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
        rows.append(EvalRow(item.q, rank, in_snippet, len(response.results)))
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


def evaluate_ids(
    engine: SearchEngine, questions: QuestionSet, progress: Callable[[int, int], None] | None = None
) -> dict[str, Any]:
    """recall@k and MRR@10 for a JSONL question set (gold = article id) with the product's ranking."""
    ranked: list[list[str]] = []
    for number, item in enumerate(questions.positives, start=1):
        response = engine.search(item.q, limit=10)
        ranked.append([r.article.id for r in response.results])
        if progress is not None:
            progress(number, len(questions.positives))
    return ranking_metrics(ranked, [p.gold[0] for p in questions.positives])


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
