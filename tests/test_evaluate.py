"""`newsbot eval`: figures per kind of question, the no-answer check's precision and recall, and
for JSONL the answer path beside the plain BM25 ranking and an answer-aware score."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from corpora import ROOT

from bench.evaluate import (
    Positive,
    answer_aware_metrics,
    evaluate_ids,
    evaluate_titles,
    no_answer_figures,
    read_questions,
)
from bot.cli.commands import main
from index.search import SearchEngine

# Written for this test over the bundled corpus (not copied from the dev file).
KINDS_YAML = """
positives:
  - {q: "天山积水点改造", gold: ["积水点改造"]}
  - {kind: street, q: "外滩街道工会代表大会", gold: ["二届三次代表大会"]}
  - {kind: answer, q: "绣国旗活动有几家老字号参加", gold: ["同绣国旗"], answer: "11家"}
  - {kind: answer, q: "绣国旗的老字号", gold: ["同绣国旗"], answer: "这句话不在任何文章里"}
  - {kind: plain, q: "積水點改造", gold: ["积水点改造"]}
  - {kind: plain, q: "地铁末班车时刻", gold: ["积水点改造"]}
negatives:
  - "地铁几点停运"
  - "护照怎么办理"
"""


def test_titles_eval_reports_each_kind_and_the_no_answer_check(engine: SearchEngine, tmp_path: Path) -> None:
    path = tmp_path / "kinds.yaml"
    path.write_text(KINDS_YAML, encoding="utf-8")
    figures = evaluate_titles(engine, read_questions(path))
    kinds = figures["kinds"]
    assert set(kinds) == {"untagged", "street", "answer", "plain", "negatives"}
    assert kinds["street"]["target"] == ("gold at rank 1", 1.0)
    # One answer is in its snippet, the other is in no article at all.
    assert kinds["answer"]["questions"] == 2 and kinds["answer"]["answer_in_snippet"] == 0.5
    # The unanswerable "plain" question costs hit@3 and counts as a positive turned away.
    assert kinds["plain"]["target"] == ("hit@3", 0.5)
    assert kinds["negatives"]["target"] == ("nothing answered", 1.0)
    check = figures["no_answer_check"]
    assert check["negatives"] == 2 and check["of_them_negatives"] == 2
    assert check["positives_turned_away"] == 1 and check["nothing_found"] == 3
    assert check["precision"] == pytest.approx(2 / 3) and check["recall"] == 1.0


def test_eval_command_prints_the_kinds(tmp_path: Path, corpus_index: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "kinds.yaml"
    path.write_text(KINDS_YAML, encoding="utf-8")
    args = ["eval", str(path), "--corpus", str(ROOT / "corpus"), "--index", str(corpus_index)]
    assert main(args) == 0
    out = capsys.readouterr().out
    assert "street       1 questions  gold at rank 1: 1.000" in out
    assert "answer       2 questions  answer in the gold snippet: 0.500" in out
    assert "precision 0.667, recall 1.000 of 2 negatives" in out
    assert main([*args, "--json"]) == 0
    assert json.loads(capsys.readouterr().out)["kinds"]["plain"]["questions"] == 2


def test_no_answer_figures_without_negatives() -> None:
    assert no_answer_figures([3, 0, 1], []) == {
        "nothing_found": 1,
        "of_them_negatives": 0,
        "negatives": 0,
        "positives_turned_away": 1,
        "precision": 0.0,
        "recall": None,
    }
    assert no_answer_figures([2], [])["precision"] is None


def test_answer_aware_score_counts_another_article_holding_the_answer() -> None:
    positives = [
        Positive("q1", ["gold-1"], "一千二百名"),
        Positive("q2", ["gold-2"], "5张"),  # too short to count by text
        Positive("q3", ["gold-3"], "跃进农场"),
    ]
    results = [
        [("other", "共有一千 二百名居民参加"), ("gold-1", "")],
        [("other", "开出5张整改单"), ("gold-2", "")],
        [("x", "无关"), ("y", "无关"), ("gold-3", "")],
    ]
    figures = answer_aware_metrics(results, positives)
    assert figures["with_usable_answer"] == 2
    assert figures["recall@1"] == pytest.approx(1 / 3)
    assert figures["mrr@10"] == pytest.approx((1 + 1 / 2 + 1 / 3) / 3)


def test_ids_eval_keeps_the_answer_path_and_plain_bm25_apart(engine: SearchEngine, tmp_path: Path) -> None:
    articles = list(engine.index.articles())
    target = next(a for a in articles if "积水点改造" in a.title)
    lines = [
        {"q": "积水点改造", "gold": target.id, "answer": "积水点改造"},
        {"q": "地铁末班车时刻表", "gold": target.id, "answer": ""},
    ]
    path = tmp_path / "dev.jsonl"
    path.write_text("\n".join(json.dumps(x, ensure_ascii=False) for x in lines), encoding="utf-8")
    figures = evaluate_ids(engine, read_questions(path))
    assert figures["recall@1"] == 0.5 and figures["plain_bm25"]["questions"] == 2
    assert figures["answer_aware"]["recall@1"] == 0.5
    assert figures["no_answer_check"]["positives_turned_away"] == 1
