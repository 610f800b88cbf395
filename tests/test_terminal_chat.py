"""`newsbot chat`: the resident conversation on standard input and output."""

from __future__ import annotations

import io
import os
import subprocess
import sys
from pathlib import Path

from corpora import CORPUS

from bot.cli.terminal import run_terminal_chat
from bot.core.settings import load_settings


def chat(tmp_path: Path, corpus_index: Path, lines: list[str]) -> str:
    settings = load_settings(tmp_path / "config.yaml", corpus=str(CORPUS), index=str(corpus_index))
    out = io.StringIO()
    code = run_terminal_chat(settings, stdin=io.StringIO("\n".join(lines) + "\n"), stdout=out)
    assert code == 0
    return out.getvalue()


def test_questions_numbers_more_and_commands(tmp_path: Path, corpus_index: Path) -> None:
    output = chat(
        tmp_path,
        corpus_index,
        [
            "芷江西路垃圾分类检查去了哪些小区？",
            "1",
            "垃圾分类",
            "更多",
            "更多",
            "/latest 天山路",
            "2",
            "9",
            "/latest 火星",
            "/help",
            "/subscribe 外滩",
            "/mysubs",
            "😀",
            "火星基地",
            "/nosuch",
            "9",
        ],
    )
    answers = output.split("\n> ")
    assert "1. 市、区人大代表检查芷江西社区垃圾分类情况" in answers[0]
    assert "芷江西路街道 · 社区报 · 2020年6月" in answers[0]
    assert "【垃圾分类】" in answers[0]
    assert "<b>" not in output  # plain text, no Telegram markup
    assert "代表们来到灵广花园、中兴财富、芷江新村、苏家巷等小区" in answers[1]  # the full article
    assert "找到 4 篇相关报道（第 1–3 篇）" in answers[2] and "输入“更多”看下一页" in answers[2]
    assert "4. " in answers[3] and "（第 4 篇）" in answers[3]
    assert "没有更多结果了" in answers[4]
    assert "天山路街道 · 天山社区晨报 · 2020年6月" in answers[5]
    assert "区委书记王为人带队检查" in answers[6]
    assert "请输入 1–3 之间的数字" in answers[7]
    assert "没有找到“火星”" in answers[8] and "外滩街道" in answers[8]
    assert "/latest" in answers[9]
    assert "外滩街道" in answers[10] and "Telegram" in answers[10]
    assert "Telegram" in answers[11]
    assert "请输入想查找的内容" in answers[12]
    assert "没有找到" in answers[13] and "/latest" in answers[13]
    assert "没有这个命令" in answers[14]
    assert answers[15].startswith("9\n找到")  # with nothing listed, a number is a question


def test_newsbot_chat_reads_a_pipe_and_exits_zero(tmp_path: Path, corpus_index: Path) -> None:
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    result = subprocess.run(
        [sys.executable, "-m", "bot.cli", "run", "--corpus", str(CORPUS), "--index", str(corpus_index)],
        input="芷江西路垃圾分类检查去了哪些小区?\n/latest 天山路\n/help\n".encode(),
        capture_output=True,
        cwd=tmp_path,
        env=env,
        timeout=60,
        check=False,
    )
    out = result.stdout.decode()
    assert result.returncode == 0, result.stderr.decode()
    assert "市、区人大代表检查芷江西社区垃圾分类情况" in out
    assert "王为人检查天山积水点改造" in out
    assert "/latest [街道]" in out
    assert "terminal chat" in result.stderr.decode()  # `run` without a token says what it does


def test_a_reader_that_goes_away_ends_the_chat_quietly(tmp_path: Path, corpus_index: Path) -> None:
    process = subprocess.Popen(
        [sys.executable, "-m", "bot.cli", "chat", "--corpus", str(CORPUS), "--index", str(corpus_index)],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        cwd=tmp_path,
    )
    assert process.stdin is not None and process.stdout is not None and process.stderr is not None
    process.stdin.write("垃圾分类\n".encode() * 200)
    process.stdin.close()
    assert process.stdout.readline()  # like `newsbot chat | head -1`
    process.stdout.close()
    assert process.wait(timeout=60) == 0
    assert b"Traceback" not in process.stderr.read()
    process.stderr.close()


def test_small_talk_and_subscribing_in_words(tmp_path: Path, corpus_index: Path) -> None:
    lines = ["你好", "谢谢", "帮助", "我想订阅天山路的社区报", "怎么订阅", "下一页", "再见", "社区义珍"]
    output = chat(tmp_path, corpus_index, lines)
    answers = output.split("\n> ")
    assert len(answers) == 8
    for answer in (answers[0], answers[1], answers[2], answers[6]):
        assert "没有找到" not in answer and "/latest" in answer and "可以这样问" in answer
    assert "不客气" in answers[1]
    assert "/subscribe 天山路街道" in answers[3] and "Telegram" in answers[3]
    assert "可订阅的街道" in answers[4] and "外滩街道" in answers[4]
    assert "还没有提问" in answers[5]
    assert "您是不是要找：社区义诊" in answers[7] and "1. " in answers[7]
