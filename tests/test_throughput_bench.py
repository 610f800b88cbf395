"""`newsbot bench --throughput` runs a real bot process against the fake server and reports."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from corpora import BENCH, ROOT


@pytest.mark.slow
def test_throughput_reports_every_rate_and_the_profile(tmp_path: Path) -> None:
    if not (BENCH / "queries.txt").exists():
        pytest.skip(f"no benchmark questions at {BENCH}")
    index = tmp_path / "index"
    command = [sys.executable, "-m", "bot.cli", "bench", "--data", str(BENCH), "--index", str(index)]
    command += ["--throughput", "--rates", "2,3", "--step-seconds", "2", "--json"]
    env = {k: v for k, v in os.environ.items() if k != "TELEGRAM_BOT_TOKEN"}
    done = subprocess.run(command, cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr[-3000:]
    figures = json.loads(done.stdout)
    assert figures["alone_p50_ms"] > 0
    rates = [step["rate"] for step in figures["steps"]]
    assert rates[0] == 2
    for step in figures["steps"]:
        assert step["answered"] == step["questions"] == step["rate"] * 2
        assert 0 < step["p50_ms"] <= step["p95_ms"] <= step["p99_ms"]
    profile = figures["profile"]
    assert profile["cpu_ticks"] > 0
    assert any(name.startswith("index.") for name, _ in profile["inclusive"])  # answering shows up
