"""Reading corpora with bad files in them, and the command-line contract (JSON shapes, exit codes)."""

from __future__ import annotations

import io
import json
import shutil
from pathlib import Path

import pytest
from corpora import CORPUS, ROOT

from bot.cli.commands import main
from bot.core.exit_codes import EXIT_OK, EXIT_SKIPPED, EXIT_USAGE
from index.corpus import load_corpus
from index.text_decoding import decode_text

ISSUE = "区里开展社区义诊活动\n\n近日，社区举办义诊，居民测量血压。\n\n(社区办)\n"


@pytest.fixture
def messy_corpus(tmp_path: Path) -> Path:
    """Two good issues, one of them GB18030, beside every kind of bad file."""
    corpus = tmp_path / "corpus"
    corpus.mkdir()
    (corpus / "good.txt").write_text(ISSUE, encoding="utf-8")
    (corpus / "gbk.txt").write_bytes("街道举办垃圾分类培训\n\n居民学习垃圾分类知识。\n".encode("gb18030"))
    (corpus / "empty.txt").write_bytes(b"")
    (corpus / "blank.txt").write_text("  \n\n ", encoding="utf-8")
    (corpus / "binary.txt").write_bytes(b"\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR" + bytes(range(256)))
    (corpus / "latin.txt").write_bytes(bytes([0xFF, 0xFE, 0xFA]) * 40)
    (corpus / "photo.jpg").write_bytes(b"\xff\xd8\xff")
    lines = [
        json.dumps(
            {"id": "a1", "title": "老年助餐点开张", "text": "社区新开老年助餐点，每天供应午餐。"}, ensure_ascii=False
        ),
        "{not json",
        json.dumps({"id": "a2"}),
        "[1, 2]",
        json.dumps({"text": "没有标题的一条消息。说的是加装电梯。"}, ensure_ascii=False),
    ]
    (corpus / "archive.jsonl").write_text("\n".join(lines) + "\n", encoding="utf-8")
    (corpus / "manifest.yaml").write_text("issues:\n  good.txt: {street: 测试街道, month: 2024-05}\n", encoding="utf-8")
    return corpus


def test_decode_text_accepts_utf8_bom_and_gb18030() -> None:
    assert decode_text("\ufeff社区".encode()) == "社区"
    assert decode_text("社区晨报".encode("gb18030")) == "社区晨报"
    # Notepad's "Unicode" (UTF-16 with a byte-order mark, either byte order) is text, not binary.
    assert decode_text("社区晨报\r\n第一版".encode("utf-16")) == "社区晨报\r\n第一版"
    assert decode_text("\ufeff社区晨报".encode("utf-16-be")) == "社区晨报"
    for bad in (b"", b"   ", b"\x00\x01binary", bytes([0xFF, 0xFE, 0xFA]) * 10):
        with pytest.raises(ValueError):
            decode_text(bad)


def test_bad_files_are_named_skipped_and_the_rest_is_read(messy_corpus: Path) -> None:
    loaded = load_corpus(messy_corpus)
    reasons = {Path(s.path.split(":")[0]).name: s.reason for s in loaded.skipped}
    assert set(reasons) == {"empty.txt", "blank.txt", "binary.txt", "latin.txt", "photo.jpg", "archive.jsonl"}
    assert "empty" in reasons["empty.txt"] and "binary" in reasons["binary.txt"]
    assert "GB18030" in reasons["latin.txt"]
    line_problems = [s for s in loaded.skipped if s.path.startswith(str(messy_corpus / "archive.jsonl:"))]
    assert [s.path.rsplit(":", 1)[1] for s in line_problems] == ["2", "3", "4"]
    titles = {a.title for a in loaded.articles}
    assert {"区里开展社区义诊活动", "街道举办垃圾分类培训", "老年助餐点开张"} <= titles
    derived = [a for a in loaded.articles if a.derived_headline]
    assert derived and derived[0].headline == "没有标题的一条消息"
    good = next(a for a in loaded.articles if a.title == "区里开展社区义诊活动")
    assert (good.street, good.date) == ("测试街道", "2024-05")


def test_missing_corpus_directory_is_reported(tmp_path: Path) -> None:
    loaded = load_corpus(tmp_path / "nope")
    assert loaded.articles == [] and "does not exist" in loaded.skipped[0].reason


def test_index_command_exit_code_says_something_was_skipped(
    messy_corpus: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code = main(["index", "--corpus", str(messy_corpus), "--index", str(tmp_path / "idx")])
    captured = capsys.readouterr()
    assert code == EXIT_SKIPPED
    assert "binary.txt" in captured.err and "archive.jsonl:2" in captured.err
    assert main(["search", "义诊", "--json", "--corpus", str(messy_corpus), "--index", str(tmp_path / "idx")]) in (
        EXIT_OK,
        EXIT_SKIPPED,
    )
    result = json.loads(capsys.readouterr().out)
    assert result["results"][0]["title"] == "区里开展社区义诊活动"


def test_missing_corpus_is_a_clear_error(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    code = main(["index", "--corpus", str(tmp_path / "nope"), "--index", str(tmp_path / "idx")])
    assert code == EXIT_USAGE
    assert "no articles could be read" in capsys.readouterr().err


@pytest.fixture(scope="module")
def index_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    directory = tmp_path_factory.mktemp("cli") / "index"
    assert main(["index", "--corpus", str(CORPUS), "--index", str(directory)]) == EXIT_OK
    return directory


def _run(args: list[str], index_dir: Path) -> list[str]:
    return [*args, "--corpus", str(CORPUS), "--index", str(index_dir)]


def test_search_json_contract(index_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_run(["search", "芷江西路垃圾分类检查去了哪些小区?", "--json", "--limit", "2"], index_dir)) == 0
    data = json.loads(capsys.readouterr().out)
    assert data["query"] == "芷江西路垃圾分类检查去了哪些小区?"
    assert 1 <= len(data["results"]) <= 2
    first = data["results"][0]
    assert {"id", "title", "headline", "street", "issue", "date", "score", "snippet", "text"} <= set(first)
    assert first["headline"] == "市、区人大代表检查芷江西社区垃圾分类情况"
    assert first["street"] == "芷江西路街道" and first["date"] == "2020-06"
    assert len(first["snippet"]) <= 200 and "小区" in first["snippet"]
    assert first["snippet"].strip("…") in first["text"].replace("\n", "")


def test_search_reads_questions_from_stdin_one_json_object_a_line(
    index_dir: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("sys.stdin", io.StringIO("积水点改造\n今天天气怎么样\n   \n"))
    assert main(_run(["search", "--limit", "1"], index_dir)) == 0
    lines = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert [len(x["results"]) for x in lines] == [1, 0, 0]
    assert lines[0]["results"][0]["headline"] == "王为人检查天山积水点改造"
    assert lines[2]["error"] == "empty"


@pytest.mark.parametrize("question", ["", "   ", "😀🎉", "？？？"])
def test_empty_questions_get_a_helpful_message(
    question: str, index_dir: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(_run(["search", question], index_dir)) == EXIT_USAGE
    assert "请" in capsys.readouterr().out


def test_list_json_has_one_object_per_article(index_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_run(["list", "--json"], index_dir)) == 0
    rows = [json.loads(line) for line in capsys.readouterr().out.splitlines()]
    assert len(rows) == 23
    assert set(rows[0]) == {"id", "title", "headline", "issue", "street", "date", "text", "captions"}


def test_show_summary_and_eval(index_dir: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main(_run(["show", "004_8c6126055dad1091-02"], index_dir)) == 0
    assert "王为人检查天山积水点改造" in capsys.readouterr().out
    assert main(_run(["show", "nope"], index_dir)) == EXIT_USAGE
    capsys.readouterr()
    assert main(_run(["summary", "004"], index_dir)) == 0
    out = capsys.readouterr().out
    assert out.count("■") == 3 and "6月1日，区委书记王为人带队检查" in out
    assert main(_run(["eval", str(ROOT / "tests" / "data" / "eval_sample.yaml"), "--json"], index_dir)) == 0
    metrics = json.loads(capsys.readouterr().out)
    assert metrics["hit@3"] == 1.0 and metrics["negatives_empty"] == 1.0


def test_every_command_has_help(capsys: pytest.CaptureFixture[str]) -> None:
    for command in ("index", "search", "list", "show", "summary", "eval", "publish", "run", "chat"):
        with pytest.raises(SystemExit) as exit_info:
            main([command, "--help"])
        assert exit_info.value.code == 0
        assert "--config" in capsys.readouterr().out


def test_stale_index_is_rebuilt_when_the_corpus_changes(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    corpus = tmp_path / "corpus"
    shutil.copytree(CORPUS, corpus)
    args = ["search", "义诊", "--json", "--corpus", str(corpus), "--index", str(tmp_path / "idx")]
    assert main(args) == 0
    capsys.readouterr()
    (corpus / "new.txt").write_text("社区举办读书会\n\n居民在图书馆参加读书会。\n", encoding="utf-8")
    assert main(["search", "读书会", "--json", "--corpus", str(corpus), "--index", str(tmp_path / "idx")]) == 0
    captured = capsys.readouterr()
    assert "index built (corpus changed)" in captured.err
    assert json.loads(captured.out)["results"][0]["headline"] == "社区举办读书会"
