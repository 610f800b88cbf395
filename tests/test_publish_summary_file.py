"""`newsbot publish --summary-out FILE` then `--summary FILE`: staff review the summary lines in a
file, and the broadcast queued carries the reviewed lines; a file that does not fit the issue is
refused naming each problem, and nothing is published."""

from __future__ import annotations

from pathlib import Path

import pytest
from bots import add_subscribers
from configs import make_settings, write_cli_config
from corpora import NEW_ISSUE

from bot.cli.commands import main as cli_main
from bot.core.settings import Settings
from bot.core.state import Database
from index.summary import MAX_CHARS

STREET = "天山路街道"
NEW_LINE = "天山路街道议事会商定加装电梯费用按楼层分摊，年内先在三个小区开工。"
HEADLINES = ["天山路街道开设老年助餐点", "居民议事会讨论加装电梯", "社区图书馆延长开放时间"]


@pytest.fixture
def settings(tmp_path: Path) -> Settings:
    settings = make_settings(tmp_path)
    write_cli_config(settings)
    db = Database(settings.state_db)
    add_subscribers(db, {4101: STREET, 4102: "*"})
    db.close()
    return settings


def publish(settings: Settings, issue: Path, *options: str) -> int:
    config = settings.config_path
    return cli_main(
        ["publish", str(issue), "--street", STREET, "--month", "2020-08", *options, "--config", str(config)]
    )


def corpus(settings: Settings) -> list[str]:
    return sorted(p.name for p in settings.corpus_dir.iterdir())


def broadcast_texts(settings: Settings) -> list[str]:
    db = Database(settings.state_db)
    try:
        return [str(r[0]) for r in db.query("SELECT text FROM broadcasts")]
    finally:
        db.close()


def review_blocks(path: Path) -> dict[str, str]:
    """Headline -> line of a review file."""
    rows = [r for r in path.read_text(encoding="utf-8").splitlines() if r and not r.startswith("#")]
    return {rows[i].split("] ", 1)[1]: rows[i + 1] for i in range(0, len(rows), 2)}


def edit_line(path: Path, headline: str, new: str) -> None:
    rows = path.read_text(encoding="utf-8").splitlines()
    at = next(i for i, r in enumerate(rows) if r.endswith("] " + headline))
    rows[at + 1] = new
    path.write_text("\n".join(rows) + "\n", encoding="utf-8")


def test_reviewed_lines_are_broadcast(tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str]) -> None:
    issue = tmp_path / "tianshan-2020-08.txt"
    issue.write_text(NEW_ISSUE, encoding="utf-8")
    review = tmp_path / "lines.txt"
    before = corpus(settings)
    assert publish(settings, issue, "--summary-out", str(review), "--yes") == 0
    assert corpus(settings) == before and broadcast_texts(settings) == []
    assert "nothing published" in capsys.readouterr().out
    blocks = review_blocks(review)
    assert list(blocks) == HEADLINES and all(0 < len(line) <= MAX_CHARS for line in blocks.values())
    old_line = blocks[HEADLINES[1]]

    edit_line(review, HEADLINES[1], NEW_LINE)
    assert publish(settings, issue, "--summary", str(review), "--yes") == 0
    shown = capsys.readouterr().out
    assert NEW_LINE in shown and old_line not in shown
    assert len(corpus(settings)) > len(before)
    [text] = broadcast_texts(settings)
    assert NEW_LINE in text and old_line not in text
    assert blocks[HEADLINES[0]] in text and blocks[HEADLINES[2]] in text


def test_a_file_that_does_not_fit_is_refused(
    tmp_path: Path, settings: Settings, capsys: pytest.CaptureFixture[str]
) -> None:
    issue = tmp_path / "tianshan-2020-08.txt"
    issue.write_text(NEW_ISSUE, encoding="utf-8")
    review = tmp_path / "lines.txt"
    assert publish(settings, issue, "--summary-out", str(review), "--yes") == 0
    good = review.read_text(encoding="utf-8")
    before = corpus(settings)
    capsys.readouterr()

    cases = {
        "long": (lambda: edit_line(review, HEADLINES[0], "长" * (MAX_CHARS + 1)), f"{MAX_CHARS + 1} characters"),
        "empty": (lambda: edit_line(review, HEADLINES[2], ""), "[3] has an empty line"),
        "missing": (
            lambda: review.write_text(good.split("[3]")[0], encoding="utf-8"),
            "[3] 社区图书馆延长开放时间 is missing",
        ),
        "headline": (lambda: review.write_text(good.replace("] 居民议事会", "] 别的文章"), encoding="utf-8"), "[2] is"),
    }
    for name, (spoil, reason) in cases.items():
        review.write_text(good, encoding="utf-8")
        spoil()
        assert publish(settings, issue, "--summary", str(review), "--yes") == 2, name
        err = capsys.readouterr().err
        assert "not published" in err and reason in err, (name, err)

    review.write_text(good, encoding="utf-8")
    issue.write_text(NEW_ISSUE.replace("八十岁", "七十岁"), encoding="utf-8")
    assert publish(settings, issue, "--summary", str(review), "--yes") == 2
    assert "another version of this issue" in capsys.readouterr().err
    assert corpus(settings) == before and broadcast_texts(settings) == []
