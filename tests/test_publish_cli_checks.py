"""`newsbot publish` checks what staff say about an issue the way the bot does: streets (partial
names, newspaper names, unknown ones), months (read from the issue, invalid, far ahead),
duplicates of a published issue, and corrections of an issue of the same street and month."""

from __future__ import annotations

import datetime as dtm
from pathlib import Path

import pytest
from configs import make_settings, write_cli_config
from corpora import NEW_ISSUE

from bot.cli.commands import main as cli_main
from bot.core.issue_facts import month_problem, months_from_issue, resolve_street
from index.manifest import read_manifest
from index.search import SearchEngine
from index.settings import SearchSettings


@pytest.fixture
def config(tmp_path: Path) -> Path:
    return write_cli_config(make_settings(tmp_path))


def publish(config: Path, file: Path, *options: str) -> int:
    return cli_main(["publish", str(file), *options, "--yes", "--config", str(config)])


def issue_file(tmp_path: Path, text: str = NEW_ISSUE, name: str = "new-issue.txt") -> Path:
    path = tmp_path / name
    path.write_text(text, encoding="utf-8")
    return path


def engine_of(config: Path) -> SearchEngine:
    return SearchEngine.open(config.parent / "data" / "index", SearchSettings())


def test_street_resolution_and_month_rules() -> None:
    streets = ["外滩街道", "天山路街道", "花木街道", "芷江西路街道"]
    assert resolve_street("芷江西路", streets).street == "芷江西路街道"
    assert resolve_street("天山社区晨报", streets, {"天山社区晨报": "天山路街道"}).street == "天山路街道"
    assert resolve_street("新华路街道", streets).street is None
    assert resolve_street("新华路街道", streets, allow_new=True).new
    today = dtm.date(2020, 7, 15)
    assert month_problem("2020-13", today) == "invalid"
    assert month_problem("2099-01", today) == "future"
    assert month_problem("2020-08", today) is None
    text = "本报讯 2020年6月3日，……截至2020年7月底，……"
    assert months_from_issue(text) == ["2020-07", "2020-06"]
    assert months_from_issue(text, "tianshan-2020-05.txt")[0] == "2020-05"


def test_cli_resolves_the_street_and_takes_newspaper_and_district(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert publish(config, issue_file(tmp_path), "--street", "天山路", "--month", "2020-08") == 0
    manifest, _ = read_manifest(config.parent / "corpus")
    entry = next(v for k, v in manifest.items() if k.endswith("_new-issue.txt"))
    assert entry == {"street": "天山路街道", "district": "长宁区", "newspaper": "天山社区晨报", "month": "2020-08"}
    assert engine_of(config).streets() == ["外滩街道", "天山路街道", "花木街道", "芷江西路街道"]
    # The manifest keeps its comments.
    assert (config.parent / "corpus" / "manifest.yaml").read_text(encoding="utf-8").startswith("# Facts about")


def test_cli_refuses_an_unknown_street_unless_new(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    before = sorted((config.parent / "corpus").iterdir())
    assert publish(config, issue_file(tmp_path), "--street", "华阳路", "--month", "2020-08") == 2
    err = capsys.readouterr().err
    assert "unknown street" in err and "花木街道" in err and "--new-street" in err
    assert sorted((config.parent / "corpus").iterdir()) == before
    assert publish(config, issue_file(tmp_path), "--street", "新华路街道", "--new-street", "--month", "2020-08") == 0
    assert "新华路街道" in engine_of(config).streets()


def test_cli_month_from_the_issue_invalid_and_future(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    dated = NEW_ISSUE.replace("为方便上班族", "2020年9月1日起，为方便上班族")
    assert publish(config, issue_file(tmp_path, dated), "--street", "天山路街道") == 0
    assert "month read from the issue: 2020-09" in capsys.readouterr().err
    issue = engine_of(config).latest_issue("天山路街道")
    assert issue is not None and issue.month == "2020-09"

    other = issue_file(tmp_path, NEW_ISSUE.replace("老年助餐点", "长者食堂"), "other.txt")
    assert publish(config, other, "--street", "天山路街道", "--month", "2020-13") == 2
    assert "not a month" in capsys.readouterr().err
    assert publish(config, other, "--street", "天山路街道", "--month", "2099-01") == 2
    assert "--future" in capsys.readouterr().err
    assert publish(config, other, "--street", "天山路街道") == 2  # no date in text or name
    assert "--month" in capsys.readouterr().err
    assert publish(config, other, "--street", "天山路街道", "--month", "2099-01", "--future") == 0


def test_cli_refuses_duplicates_and_replaces_on_correction(
    tmp_path: Path, config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    corpus = config.parent / "corpus"
    first = issue_file(tmp_path)
    assert publish(config, first, "--street", "天山路街道", "--month", "2020-08") == 0
    published = next(p.name for p in corpus.iterdir() if p.name.endswith("_new-issue.txt"))
    capsys.readouterr()
    # The same issue with other line breaks, full-width punctuation and trailing blank lines.
    same = NEW_ISSUE.replace("，", ",").replace("\n\n", "\n\n\n") + "\n\n\n"
    before = sorted(corpus.iterdir())
    assert publish(config, issue_file(tmp_path, same, "again.txt"), "--street", "天山路街道", "--month", "2020-08") == 2
    assert published in capsys.readouterr().err
    assert sorted(corpus.iterdir()) == before

    fixed = NEW_ISSUE.replace("老年助餐点", "长者助餐点")
    corrected = issue_file(tmp_path, fixed, "fixed.txt")
    assert publish(config, corrected, "--street", "天山路街道", "--month", "2020-08") == 2
    err = capsys.readouterr().err
    assert published in err and "--correction" in err
    assert publish(config, corrected, "--street", "天山路街道", "--month", "2020-08", "--correction") == 0
    out = capsys.readouterr().out
    assert "not broadcast" in out and "broadcast queued" not in out
    names = sorted(p.name for p in corpus.iterdir())
    assert published not in names and any(n.endswith("_fixed.txt") for n in names)
    engine = engine_of(config)
    titles = [a.title for a in engine.index.articles()]
    assert "天山路街道开设长者助餐点" in titles and "天山路街道开设老年助餐点" not in titles
    assert [i.month for i in engine.issues if i.street == "天山路街道"].count("2020-08") == 1
