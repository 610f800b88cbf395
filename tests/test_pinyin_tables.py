"""The shipped pinyin tables against pypinyin itself: remade identically, and every reading the
typo path asks for the same as pypinyin's; serving never imports pypinyin."""

from __future__ import annotations

import random
import re
import subprocess
import sys
from pathlib import Path

from corpora import CORPUS
from pypinyin import Style, lazy_pinyin, pinyin
from pypinyin.constants import PHRASES_DICT

from index.pinyin_tables import CHARS_FILE, PHRASES_FILE, tables, write_tables
from index.tokenize import Tokenizer

DATA = Path(__file__).resolve().parents[1] / "index" / "data"


def test_the_shipped_tables_are_what_the_installed_pypinyin_makes(tmp_path: Path) -> None:
    write_tables(tmp_path)
    for name in (CHARS_FILE, PHRASES_FILE):
        assert (tmp_path / name).read_text(encoding="utf-8") == (DATA / name).read_text(encoding="utf-8"), name


def test_characters_read_as_pypinyin_reads_them() -> None:
    table = tables()
    for code in range(0x4E00, 0xA000, 7):
        char = chr(code)
        assert table.char_reading(char) == lazy_pinyin(char, style=Style.NORMAL)[0], char
        if char in table.readings:
            assert table.readings[char] == tuple(dict.fromkeys(pinyin(char, style=Style.NORMAL, heteronym=True)[0]))


def test_words_read_as_pypinyin_reads_them() -> None:
    table = tables()
    tokenizer = Tokenizer()
    text = "\n".join(path.read_text(encoding="utf-8") for path in sorted(CORPUS.glob("*.txt")))
    words = {w for w in tokenizer.document_tokens(text) if re.fullmatch(r"[\u4e00-\u9fff]{1,8}", w)}
    phrases = sorted(PHRASES_DICT)
    rng = random.Random(11)
    # Runs across phrase boundaries, where the forward maximum matching decides the reading.
    joined = {rng.choice(phrases)[rng.randint(0, 2) :] + rng.choice(phrases)[:3] for _ in range(20_000)}
    checked = 0
    for word in sorted(words | set(phrases[::3]) | joined | {"银行", "银行卡", "重庆市长", "长江大桥", "行长"}):
        assert table.word_reading(word) == lazy_pinyin(word, style=Style.NORMAL), word
        checked += 1
    assert checked > 30_000


def test_serving_and_correcting_a_typo_never_import_pypinyin(tmp_path: Path) -> None:
    script = f"""
import sys
from pathlib import Path
from index.build import build_index
from index.search import SearchEngine
from index.settings import IndexParams
from index.tolerance import prepare
build_index(Path({str(CORPUS)!r}), Path({str(tmp_path / "index")!r}), IndexParams(), workers=1)
engine = SearchEngine.open(Path({str(tmp_path / "index")!r}))
prepare()
found = engine.search("积水点改早")
assert found.results and found.suggestion == "积水点改造", found.suggestion
assert "pypinyin" not in sys.modules, sorted(m for m in sys.modules if "pinyin" in m)
print("ok")
"""
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip().endswith("ok")
