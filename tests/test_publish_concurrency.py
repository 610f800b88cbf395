"""Writers meeting on one corpus, as real processes: four `newsbot publish` and one
`newsbot index --force` started at once, three rounds. Every issue ends up in the corpus, the
manifest and the index exactly once, searchable, and the index loads cleanly. And a replaced
index is closed: once no question uses the old engine, none of its files stays open or mapped."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from pathlib import Path

import pytest
from configs import make_settings, write_cli_config
from corpora import NEW_ISSUE

from bot.core.settings import Settings
from index import append, loading
from index.build import build_index
from index.index_files import META
from index.loaded_index import LoadedIndex
from index.loading import load_index
from index.maintenance import EngineHolder
from index.manifest import read_manifest
from index.publish import SameMonthIssue, parse_upload, publish_issue
from index.search import SearchEngine
from index.settings import IndexParams, SearchSettings
from index.staleness import index_is_current

STREET = "天山路街道"
# One unusual word per issue, so a search finds exactly that issue.
MARKERS = ["翡翠广场", "琥珀长廊", "珊瑚花园", "玛瑙书屋"]
ROUNDS = 3
PROCESS_TIMEOUT = 600


def issue_text(marker: str, round_number: int) -> str:
    return NEW_ISSUE.replace("娄山关路", f"{marker}旁的第{round_number}号楼").replace(
        "天山路街道开设老年助餐点", f"天山路街道在{marker}开设第{round_number}个老年助餐点"
    )


def newsbot(*args: str) -> list[str]:
    script = Path(sys.executable).with_name("newsbot")
    if script.exists():
        return [str(script), *args]
    return [sys.executable, "-c", "import sys; from bot.cli.commands import main; sys.exit(main(sys.argv[1:]))", *args]


def settings_and_config(tmp_path: Path) -> tuple[Settings, Path]:
    """A copy of the bundled corpus and its index, and a config.yaml for `newsbot` processes."""
    settings = make_settings(tmp_path)
    return settings, write_cli_config(settings, workers=1)


@pytest.mark.slow
def test_four_publishers_and_a_forced_build_at_once(tmp_path: Path) -> None:
    settings, config = settings_and_config(tmp_path)
    before = len(read_manifest(settings.corpus_dir)[0])
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    published: list[str] = []
    waited = 0
    for round_number in range(1, ROUNDS + 1):
        files = []
        for number, marker in enumerate(MARKERS):
            path = tmp_path / f"round{round_number}-{number}.txt"
            path.write_text(issue_text(marker, round_number), encoding="utf-8")
            files.append(path)
        commands = [
            newsbot(
                "publish",
                str(path),
                "--street",
                STREET,
                "--month",
                f"20{10 + round_number}-{number + 1:02d}",
                "--yes",
                "--config",
                str(config),
            )
            for number, path in enumerate(files)
        ]
        commands.insert(2, newsbot("index", "--force", "--config", str(config)))
        processes = [
            subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for c in commands
        ]
        outcomes = [(p.args, *p.communicate(timeout=PROCESS_TIMEOUT), p.returncode) for p in processes]
        for args, out, err, code in outcomes:
            assert code == 0, f"{args}\n{out}\n{err}"
        # The writers did meet: those that found the lock taken said whom they waited for.
        waited += sum("waiting for the index lock held by pid" in err for _, _, err, _ in outcomes)
        published.extend(p.stem for p in files)

        # The corpus and its manifest: every issue once.
        manifest, _ = read_manifest(settings.corpus_dir)
        assert len(manifest) == before + len(published)
        texts = sorted(p for p in settings.corpus_dir.glob("*.txt"))
        assert len(texts) == len(manifest)
        assert not [p for p in settings.corpus_dir.iterdir() if p.name.endswith(".tmp")]

        # The index: loads cleanly, matches the corpus, every issue and article once.
        engine = SearchEngine.open(settings.index_dir, SearchSettings())
        current, why = index_is_current(settings.index_dir, settings.corpus_dir, IndexParams())
        assert current, why
        ids = [issue.id for issue in engine.issues]
        assert len(ids) == len(set(ids)) == len(manifest)
        article_ids = list(engine.index.article_ids())
        assert len(article_ids) == len(set(article_ids)) == engine.index.n_docs
        for marker in MARKERS:
            for earlier in range(1, round_number + 1):
                wanted = f"{marker}开设第{earlier}个老年助餐点"
                titles = [a.title for a in engine.index.articles() if wanted in a.title]
                assert len(titles) == 1, (wanted, titles)
            results = engine.search(f"{marker} 老年助餐点").results
            assert results and marker in results[0].article.title
        engine.index.close()
        leftovers = [p.name for p in settings.index_dir.parent.iterdir() if ".building-" in p.name or ".old-" in p.name]
        assert leftovers == []
    assert waited > 0


def _held_index_files(root: Path) -> list[str]:
    """Files under `root` this process has open or memory-mapped."""
    held = []
    for fd in os.listdir("/proc/self/fd"):
        try:
            target = os.readlink(f"/proc/self/fd/{fd}")
        except OSError:
            continue
        if target.startswith(str(root)):
            held.append(target)
    with open("/proc/self/maps", encoding="utf-8") as maps:
        held.extend(line.split(None, 5)[-1].strip() for line in maps if str(root) in line)
    return held


@pytest.mark.skipif(not Path("/proc/self/maps").exists(), reason="needs /proc")
def test_a_replaced_index_is_closed_once_no_question_uses_it(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    holder = EngineHolder(
        SearchEngine.open(settings.index_dir), settings.corpus_dir, settings.index_dir, IndexParams(), SearchSettings()
    )
    assert holder.engine.search("垃圾分类").results  # maps and opens the files
    assert _held_index_files(settings.index_dir)

    # A rebuild replaces every file: the old ones are deleted, and must not stay held.
    with holder.lease() as asking:
        holder.start_reindex()
        holder.wait(timeout=PROCESS_TIMEOUT)
        assert holder.status.stage == "done", holder.status.error
        assert holder.engine is not asking
        # A question still running on the old engine keeps it open and working.
        assert asking.search("垃圾分类").results
        assert holder.closed_engines == 0
    assert holder.closed_engines == 1
    deleted = [f for f in _held_index_files(settings.index_dir.parent) if "(deleted)" in f]
    assert deleted == []

    # A publish appends to the index in place and reloads it: the old engine is closed at once.
    issue, articles, text = parse_upload(NEW_ISSUE.encode(), "t.txt", STREET, "2020-07")
    publish_issue(settings.corpus_dir, settings.index_dir, issue, articles, text)
    holder.reload()
    assert holder.closed_engines == 2
    held = _held_index_files(settings.index_dir.parent)
    assert [f for f in held if "(deleted)" in f] == []
    assert holder.engine.search("老年助餐点 娄山关路").results


def test_readers_load_whole_indexes_while_a_writer_replaces_them(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    done = threading.Event()
    failures: list[BaseException] = []

    def write() -> None:
        try:
            for number, marker in enumerate(MARKERS):
                issue, articles, text = parse_upload(
                    issue_text(marker, 1).encode(), f"w{number}.txt", STREET, f"2015-{number + 1:02d}"
                )
                publish_issue(settings.corpus_dir, settings.index_dir, issue, articles, text)
                build_index(settings.corpus_dir, settings.index_dir, IndexParams(), workers=1)
        except BaseException as exc:  # reported by the test below
            failures.append(exc)
        finally:
            done.set()

    writer = threading.Thread(target=write)
    writer.start()
    loads = 0
    while not done.is_set() or loads == 0:
        loaded = load_index(settings.index_dir)
        ids = [i.id for i in loaded.issues]
        # One generation: the issues listed are exactly those whose articles the segments hold.
        assert {loaded.article(n).issue for n in range(loaded.n_docs)} == set(ids)
        loaded.close()
        loads += 1
    writer.join()
    assert not failures, failures
    assert load_index(settings.index_dir).n_docs > 0


def test_a_publish_that_dies_before_its_commit_leaves_the_old_index(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path)
    before = load_index(settings.index_dir)
    issue, articles, text = parse_upload(NEW_ISSUE.encode(), "t.txt", STREET, "2020-07")
    real = append.write_json

    def crash_at_meta(path: Path, data: object, *, compact: bool = False) -> None:
        if path.name == META:
            raise OSError("power cut")
        real(path, data, compact=compact)

    monkeypatch.setattr(append, "write_json", crash_at_meta)
    with pytest.raises(OSError, match="power cut"):
        append.add_articles(settings.index_dir, issue, articles, settings.corpus_dir)
    monkeypatch.undo()
    after = load_index(settings.index_dir)
    assert [i.id for i in after.issues] == [i.id for i in before.issues]
    assert after.terms_by_id() == before.terms_by_id() and after.n_docs == before.n_docs
    assert after.tokenizer.user_words == before.tokenizer.user_words
    # And the next publish goes through as if nothing had happened.
    publish_issue(settings.corpus_dir, settings.index_dir, issue, articles, text)
    assert issue.id in [i.id for i in load_index(settings.index_dir).issues]


def test_two_issues_of_one_month_published_at_once_land_once(tmp_path: Path) -> None:
    settings, config = settings_and_config(tmp_path)
    before = len(read_manifest(settings.corpus_dir)[0])
    files = []
    for number, marker in enumerate(MARKERS[:2]):
        path = tmp_path / f"same-month-{number}.txt"
        path.write_text(issue_text(marker, 1), encoding="utf-8")
        files.append(path)
    commands = [
        newsbot("publish", str(p), "--street", STREET, "--month", "2021-03", "--yes", "--config", str(config))
        for p in files
    ]
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    processes = [
        subprocess.Popen(c, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env) for c in commands
    ]
    outcomes = [(*p.communicate(timeout=PROCESS_TIMEOUT), p.returncode) for p in processes]
    assert [code == 0 for _, _, code in outcomes].count(True) == 1, outcomes
    refused = next(out + err for out, err, code in outcomes if code)
    assert "已有一期" in refused or "already has an issue" in refused
    assert len(read_manifest(settings.corpus_dir)[0]) == before + 1
    engine = SearchEngine.open(settings.index_dir, SearchSettings())
    months = [(i.street, i.month) for i in engine.issues]
    assert months.count((STREET, "2021-03")) == 1
    engine.index.close()


def test_the_same_month_is_checked_again_under_the_lock(tmp_path: Path) -> None:
    settings = make_settings(tmp_path)
    first = issue_text(MARKERS[0], 1)
    second = issue_text(MARKERS[1], 1)
    for number, (text, another) in enumerate([(first, False), (second, False), (second, True)]):
        issue, articles, text = parse_upload(text.encode(), f"m{number}.txt", STREET, "2021-04", "长宁区", "")
        if number == 1:
            with pytest.raises(SameMonthIssue):
                publish_issue(settings.corpus_dir, settings.index_dir, issue, articles, text, another_of_month=another)
        else:
            publish_issue(settings.corpus_dir, settings.index_dir, issue, articles, text, another_of_month=another)
    issues = load_index(settings.index_dir).issues
    assert [(i.street, i.month) for i in issues].count((STREET, "2021-04")) == 2


def test_a_read_that_overlapped_a_replacement_is_read_again_whatever_it_raised(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = make_settings(tmp_path)
    real = loading.LoadedIndex
    attempts: list[int] = []

    def torn_read(directory: Path) -> LoadedIndex:
        attempts.append(1)
        if len(attempts) == 1:
            # A writer replaces the index while this read is under way, and the read fails the
            # way the interpreter's parser may fail on a torn .npy header.
            meta = directory / META
            meta.write_text(meta.read_text(encoding="utf-8") + "\n", encoding="utf-8")
            raise SystemError("Negative size passed to PyUnicode_New")
        return real(directory)

    monkeypatch.setattr(loading, "LoadedIndex", torn_read)
    assert load_index(settings.index_dir).n_docs > 0
    assert len(attempts) == 2

    # On an index nobody changed, the same failure is not hidden.
    attempts.clear()

    def broken(directory: Path) -> LoadedIndex:
        raise SystemError("a real bug")

    monkeypatch.setattr(loading, "LoadedIndex", broken)
    with pytest.raises(SystemError, match="a real bug"):
        load_index(settings.index_dir)
