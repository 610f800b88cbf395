"""Presenting the benchmark: the targets table (each target with its limit and whether it holds),
the per-size system tables and the city-scale rows, as the text `newsbot bench` prints.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

from bench.figures import CITY_ARTICLES, TARGET_MIN_ARTICLES, Figures

log = logging.getLogger(__name__)


def get_figure(data: Figures, *path: str) -> Any:
    value: Any = data
    for key in path:
        if not isinstance(value, dict) or key not in value:
            return None
        value = value[key]
    return value


def _ratio(numerator: Any, denominator: Any) -> float | None:
    if numerator is None or denominator in (None, 0):
        return None
    return float(numerator) / float(denominator)


def _fmt(value: Any, digits: int = 2, suffix: str = "") -> str:
    if value is None:
        return "–"
    if isinstance(value, float):
        return f"{value:,.{digits}f}{suffix}"
    if isinstance(value, int):
        return f"{value:,}{suffix}"
    return f"{value}{suffix}"


def _mb(value: Any) -> str:
    return "–" if value is None else f"{value / 2**20:,.0f} MB"


def size_label(figures: Figures) -> str:
    """A size's figures named by their article count ("68,221 articles")."""
    return f"{figures.get('articles', 0):,} articles"


def target_rows(figures: Figures) -> list[tuple[str, str, str, bool | None]]:
    """(target, limit, measured, met) for one size's figures."""
    build = get_figure(figures, "build", "seconds")
    rows: list[tuple[str, str, str, bool | None]] = []

    def add(name: str, limit: str, value: float | None, met: bool | None, text: str | None = None) -> None:
        rows.append((name, limit, text if text is not None else _fmt(value, 2), met))

    ours_p50 = get_figure(figures, "ours", "rank", "p50")
    rank_p50 = get_figure(figures, "rank_bm25", "latency", "p50")
    speedup = _ratio(rank_p50, ours_p50)
    add(
        "query latency vs rank-bm25 get_top_n (p50)",
        "≥ 100× faster",
        speedup,
        None if speedup is None else speedup >= 100,
        None if speedup is None else f"{speedup:,.0f}× faster",
    )
    answer_speedup = _ratio(rank_p50, get_figure(figures, "ours", "answer", "p50"))
    add(
        "answer path (everything a question costs) vs rank-bm25 get_top_n (p50)",
        "(no target)",
        answer_speedup,
        None,
        None if answer_speedup is None else f"{answer_speedup:,.0f}× faster",
    )
    for pct in ("p50", "p95", "p99"):
        ours = get_figure(figures, "ours", "rank", pct)
        theirs = get_figure(figures, "bm25s", "latency", pct)
        ratio = _ratio(ours, theirs)
        add(
            f"query latency vs bm25s ({pct})",
            "≤ 1× bm25s",
            ratio,
            None if ratio is None else ratio <= 1.0,
            None if ratio is None else f"{_fmt(ours, 3)} vs {_fmt(theirs, 3)} ms ({ratio:.2f}×)",
        )
    agreement = get_figure(figures, "rank_bm25", "agreement")
    if agreement:
        same, total = agreement["same_top10"], agreement["queries"]
        add(
            "same top 10 as rank-bm25 (exact scores)",
            "all",
            None,
            same == total,
            f"{same}/{total}, scores within {agreement['max_relative_score_difference']:.1e}",
        )
    memory = _ratio(
        get_figure(figures, "ours", "peak_rss"), get_figure(figures, "rank_bm25", "token_lists", "peak_rss")
    )
    add(
        "peak memory serving / rank-bm25's (built from token lists)",
        "≤ 0.33",
        memory,
        None if memory is None else memory <= 1 / 3,
    )
    bare = _ratio(get_figure(figures, "ours", "peak_rss"), get_figure(figures, "rank_bm25", "peak_rss"))
    add("peak memory serving / rank-bm25's own structures (streamed)", "(no target)", bare, None)
    seg = _ratio(build, get_figure(figures, "segmentation", "jieba_seconds"))
    add("index build / 1-process jieba segmentation", "≤ 0.15", seg, None if seg is None else seg <= 0.15)
    rebuild = _ratio(get_figure(figures, "rebuild", "seconds"), build)
    add("rebuild, nothing changed / full build", "≤ 0.1", rebuild, None if rebuild is None else rebuild <= 0.1)
    publish = _ratio(get_figure(figures, "publish", "seconds"), build)
    found = get_figure(figures, "publish", "found")
    publish_met = None if publish is None else publish <= 0.02 and found == get_figure(figures, "publish", "articles")
    add(
        "publish one issue / full build (and searchable)",
        "≤ 0.02",
        publish,
        publish_met,
        None
        if publish is None
        else f"{publish:.4f} ({found}/{get_figure(figures, 'publish', 'articles')} found at once)",
    )
    load = _ratio(get_figure(figures, "ours", "load_seconds"), build)
    add("index load at start-up / full build", "≤ 0.05", load, None if load is None else load <= 0.05)
    first = get_figure(figures, "ours", "first_answer_seconds")
    add(
        "first answer after start (jieba included)",
        "a few seconds",
        first,
        None if first is None else first <= 5.0,
        _fmt(first, 2, " s"),
    )
    ours_q, rank_q = get_figure(figures, "ours", "quality"), get_figure(figures, "rank_bm25", "quality")
    if ours_q and rank_q:
        add(
            "quality vs rank-bm25 (recall@10, MRR@10)",
            "no drop",
            None,
            ours_q["recall@10"] >= rank_q["recall@10"] - 1e-9 and ours_q["mrr@10"] >= rank_q["mrr@10"] - 1e-9,
            f"{ours_q['recall@10']:.3f}/{ours_q['mrr@10']:.3f} vs {rank_q['recall@10']:.3f}/{rank_q['mrr@10']:.3f}",
        )
    answer_q = get_figure(figures, "ours", "answer_quality")
    if answer_q and rank_q:
        add(
            "answer path quality vs rank-bm25 on the same tokens (recall@10, MRR@10)",
            "(see newsbot eval --baseline)",
            None,
            None,
            f"{answer_q['recall@10']:.3f}/{answer_q['mrr@10']:.3f} vs {rank_q['recall@10']:.3f}/{rank_q['mrr@10']:.3f}",
        )
    _scale_rows(figures, add)
    return rows


def _scale_rows(figures: Figures, add: Callable[..., None]) -> None:
    """The answer path and memory targets, and at city size (CITY_ARTICLES) the city's."""
    agreement = figures.get("segmenter_agreement")
    if agreement:
        add(
            f"top 10 with {agreement['segmenter']} as with {agreement['reference']}, but for number/Latin runs",
            "all",
            None,
            agreement["same_set"] + agreement["differ_other"] == 0,
            f"{agreement['same_order']} the same; {agreement['differ_question_tokens']} differ where the "
            f"question's number/Latin tokens do; otherwise {agreement['same_set']} reordered, "
            f"{agreement['differ_other']} other (of {agreement['questions']})",
        )
    answer_p50 = get_figure(figures, "ours", "answer", "p50")
    if int(figures.get("articles") or 0) < CITY_ARTICLES:  # the city's own latency target is p95
        add(
            "answer path p50 (tokenize, rank, no-answer check, snippets)",
            "≤ 5 ms",
            answer_p50,
            None if answer_p50 is None else answer_p50 <= 5.0,
            _fmt(answer_p50, 2, " ms"),
        )
    bm25s_memory = _ratio(get_figure(figures, "ours", "peak_rss"), get_figure(figures, "bm25s", "peak_rss"))
    add(
        "peak memory serving / bm25s's",
        "≤ 1",
        bm25s_memory,
        None if bm25s_memory is None else bm25s_memory <= 1.0,
    )
    if int(figures.get("articles") or 0) < CITY_ARTICLES:
        return
    build = get_figure(figures, "build", "seconds")
    add("build at city size", "≤ 10 min", build, None if build is None else build <= 600, _fmt(build, 0, " s"))
    rss = get_figure(figures, "ours", "peak_rss")
    add("peak RSS serving at city size", "≤ 1.5 GB", rss, None if rss is None else rss <= 1.5 * 2**30, _mb(rss))
    load = get_figure(figures, "ours", "load_seconds")
    add("index load at city size", "≤ 3 s", load, None if load is None else load <= 3.0, _fmt(load, 2, " s"))
    p95 = get_figure(figures, "ours", "answer", "p95")
    add("answer path p95 at city size", "≤ 25 ms", p95, None if p95 is None else p95 <= 25.0, _fmt(p95, 2, " ms"))
    publish = get_figure(figures, "publish", "seconds")
    found, wanted = get_figure(figures, "publish", "found"), get_figure(figures, "publish", "articles")
    add(
        "publish one issue at city size (searchable at once)",
        "≤ 2 s",
        publish,
        None if publish is None else publish <= 2.0 and found == wanted,
        None if publish is None else f"{publish:.2f} s ({found}/{wanted} found at once)",
    )


def _system_rows(figures: Figures) -> list[list[str]]:
    rows = []
    ours = figures.get("ours", {})
    quality = ours.get("quality") or {}
    rows.append(
        [
            "newsbot BM25 (ranking)",
            _fmt(get_figure(figures, "build", "seconds"), 1, " s"),
            _fmt(ours.get("load_seconds"), 2, " s"),
            _mb(ours.get("peak_rss")),
            _fmt(get_figure(ours, "rank", "p50"), 3),
            _fmt(get_figure(ours, "rank", "p95"), 3),
            _fmt(get_figure(ours, "rank", "p99"), 3),
            _fmt(quality.get("recall@10"), 3),
            _fmt(quality.get("mrr@10"), 3),
            "–",
        ]
    )
    answer_quality = ours.get("answer_quality") or {}
    rows.append(
        [
            "newsbot answer (words + bigrams + proximity + coverage + near-duplicates + snippets)",
            "",
            "",
            "",
            _fmt(get_figure(ours, "answer", "p50"), 3),
            _fmt(get_figure(ours, "answer", "p95"), 3),
            _fmt(get_figure(ours, "answer", "p99"), 3),
            _fmt(answer_quality.get("recall@10"), 3),
            _fmt(answer_quality.get("mrr@10"), 3),
            "",
        ]
    )
    for key, name in (("rank_bm25", "rank-bm25 BM25Okapi.get_top_n"), ("bm25s", "bm25s retrieve (atire/robertson)")):
        system = figures.get(key)
        if not system:
            continue
        if "missing" in system:
            rows.append([name, f"not installed: {system['missing']}", "", "", "", "", "", "", "", ""])
            continue
        q = system.get("quality") or {}
        agreement = system.get("agreement")
        if agreement:
            same = f"{agreement['same_top10']}/{agreement['queries']} identical (scored exactly)"
        elif system.get("same_top10_sets") is not None:
            same = f"{system['same_top10_sets']:.1%} same sets"
        else:
            same = "–"
        rows.append(
            [
                name,
                _fmt(system.get("build_seconds"), 1, " s"),
                _fmt(system.get("load_seconds"), 2, " s"),
                _mb(system.get("peak_rss")),
                _fmt(get_figure(system, "latency", "p50"), 3),
                _fmt(get_figure(system, "latency", "p95"), 3),
                _fmt(get_figure(system, "latency", "p99"), 3),
                _fmt(q.get("recall@10"), 3),
                _fmt(q.get("mrr@10"), 3),
                same,
            ]
        )
    return rows


def _steps(steps: dict[str, float] | None) -> str:
    if not steps:
        return "–"
    return "; ".join(f"{name} {seconds:.1f}" for name, seconds in steps.items())


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "|".join("---" for _ in header) + "|"]
    lines.extend("| " + " | ".join(row) + " |" for row in rows)
    return lines


def format_report(results: Figures) -> str:
    """The results as markdown: one section per size, then the targets (largest size, and 50k+)."""
    lines: list[str] = []
    sizes: list[Figures] = results.get("sizes", [])
    columns = [size_label(f) for f in sizes]
    overview = [
        ("text segmented (characters)", lambda f: _fmt(get_figure(f, "segmentation", "chars"))),
        ("segmenter", lambda f: str(get_figure(f, "segmentation", "segmenter") or "–")),
        (
            "1-process segmentation as the product does it (s)",
            lambda f: _fmt(get_figure(f, "segmentation", "seconds"), 1),
        ),
        (
            "1-process segmentation, the same steps with jieba (s)",
            lambda f: _fmt(get_figure(f, "segmentation", "jieba_seconds"), 1),
        ),
        (
            "1-process plain jieba cut_for_search (s)",
            lambda f: _fmt(get_figure(f, "segmentation", "jieba_cut_for_search_seconds"), 1),
        ),
        ("index build, all cores (s)", lambda f: _fmt(get_figure(f, "build", "seconds"), 1)),
        ("build steps (s)", lambda f: _steps(get_figure(f, "build", "steps"))),
        ("the same build with jieba (s)", lambda f: _fmt(get_figure(f, "jieba_build", "seconds"), 1)),
        (
            "build / jieba segmentation",
            lambda f: _fmt(_ratio(get_figure(f, "build", "seconds"), get_figure(f, "segmentation", "jieba_seconds"))),
        ),
        ("rebuild, nothing changed (s)", lambda f: _fmt(get_figure(f, "rebuild", "seconds"), 2)),
        (
            "rebuild / build",
            lambda f: _fmt(_ratio(get_figure(f, "rebuild", "seconds"), get_figure(f, "build", "seconds")), 3),
        ),
        (
            "the same, corpus read again (s)",
            lambda f: _fmt(get_figure(f, "rebuild_read", "seconds"), 2),
        ),
        ("publish one issue (s)", lambda f: _fmt(get_figure(f, "publish", "seconds"), 2)),
        (
            "publish / build",
            lambda f: _fmt(_ratio(get_figure(f, "publish", "seconds"), get_figure(f, "build", "seconds")), 4),
        ),
        ("reload after publishing (s)", lambda f: _fmt(get_figure(f, "publish", "reload_seconds"), 2)),
        ("index size on disk", lambda f: _mb(f.get("index_bytes"))),
        ("index load at start-up (s)", lambda f: _fmt(get_figure(f, "ours", "load_seconds"), 2)),
        (
            "load / build",
            lambda f: _fmt(_ratio(get_figure(f, "ours", "load_seconds"), get_figure(f, "build", "seconds")), 3),
        ),
        ("first answer after start (s)", lambda f: _fmt(get_figure(f, "ours", "first_answer_seconds"), 2)),
        ("peak RSS serving: newsbot", lambda f: _mb(get_figure(f, "ours", "peak_rss"))),
        (
            "peak RSS: rank-bm25 built from token lists (usual)",
            lambda f: _mb(get_figure(f, "rank_bm25", "token_lists", "peak_rss")),
        ),
        ("peak RSS: rank-bm25 streamed (its structures only)", lambda f: _mb(get_figure(f, "rank_bm25", "peak_rss"))),
        ("peak RSS serving: bm25s", lambda f: _mb(get_figure(f, "bm25s", "peak_rss"))),
        (
            "memory newsbot / rank-bm25 (usual)",
            lambda f: _fmt(
                _ratio(get_figure(f, "ours", "peak_rss"), get_figure(f, "rank_bm25", "token_lists", "peak_rss")), 3
            ),
        ),
        (
            "memory newsbot / rank-bm25 (streamed)",
            lambda f: _fmt(_ratio(get_figure(f, "ours", "peak_rss"), get_figure(f, "rank_bm25", "peak_rss")), 3),
        ),
        (
            "p50 speed-up vs rank-bm25",
            lambda f: _fmt(
                _ratio(get_figure(f, "rank_bm25", "latency", "p50"), get_figure(f, "ours", "rank", "p50")), 0, "×"
            ),
        ),
        (
            "p50 speed-up vs bm25s",
            lambda f: _fmt(
                _ratio(get_figure(f, "bm25s", "latency", "p50"), get_figure(f, "ours", "rank", "p50")), 2, "×"
            ),
        ),
        ("dev questions with their article in the corpus", lambda f: _fmt(f.get("dev_questions"))),
    ]
    lines.append("### Build, incremental indexing, start-up, memory")
    lines.append("")
    lines.extend(_table(["", *columns], [[name, *(get(f) for f in sizes)] for name, get in overview]))
    header = [
        "system",
        "build",
        "load",
        "peak RSS",
        "p50 ms",
        "p95 ms",
        "p99 ms",
        "recall@10",
        "MRR@10",
        "top 10 vs ours",
    ]
    for figures in sizes:
        lines.extend(
            ["", f"### Queries at {size_label(figures)} ({get_figure(figures, 'ours', 'rank', 'n')} questions)", ""]
        )
        lines.extend(_table(header, _system_rows(figures)))
    # Targets at the largest size and at every size of a realistic archive or more.
    for figures in sizes:
        if figures is not sizes[-1] and int(figures.get("articles") or 0) < TARGET_MIN_ARTICLES:
            continue
        lines.extend(["", f"### Targets at {size_label(figures)}", ""])
        lines.extend(
            _table(
                ["target", "limit", "measured", "met"],
                [
                    [name, limit, value, {True: "yes", False: "**no**", None: "–"}[met]]
                    for name, limit, value, met in target_rows(figures)
                ],
            )
        )
    machine = results.get("machine", {})
    load_average = machine.get("load_average_at_start")
    if load_average:
        lines.extend(
            [
                "",
                f"{machine.get('cpus')} cores; load average {load_average[0]:.2f} at the start, "
                f"{machine.get('load_average_at_end', [0])[0]:.2f} at the end; "
                f"{results.get('seconds', 0) / 60:.1f} min.",
            ]
        )
    return "\n".join(lines)
