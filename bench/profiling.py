"""Where a running bot's CPU goes: a sampling profiler for `newsbot run` (NEWSBOT_PROFILE=FILE).

cProfile sees one thread and slows every call; this samples every thread's stack a few hundred
times a second and puts each thread's CPU time since the previous look (user + system, from
/proc) down to the stack it is on, so time spent waiting for Telegram or a lock counts nothing.
The counts by function (where the CPU was spent, and what it was spent under) are written as
JSON when the bot stops; `newsbot bench --throughput` prints them.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from types import FrameType

log = logging.getLogger(__name__)

PROFILE_ENV = "NEWSBOT_PROFILE"
# About one clock tick (/proc's unit of CPU time).
INTERVAL = 0.01
TOP = 40


def _thread_cpu_ticks(native_id: int) -> int | None:
    try:
        fields = Path(f"/proc/self/task/{native_id}/stat").read_text().rsplit(")", 1)[1].split()
    except OSError:
        return None
    return int(fields[11]) + int(fields[12])


def _where(frame: FrameType) -> str:
    code = frame.f_code
    module = frame.f_globals.get("__name__", "?")
    return f"{module}.{code.co_qualname}"


class CpuSampler:
    """Samples the stacks of threads that are using CPU, until `stop`."""

    def __init__(self, path: Path, interval: float = INTERVAL) -> None:
        self.path = path
        self.interval = interval
        self.own: Counter[str] = Counter()
        self.inclusive: Counter[str] = Counter()
        self.samples = 0
        self._ticks: dict[int, int] = {}
        self._stopping = threading.Event()
        self._thread = threading.Thread(target=self._run, name="cpu-sampler", daemon=True)
        self._started = time.perf_counter()

    def start(self) -> CpuSampler:
        """Begin sampling in a background thread."""
        self._thread.start()
        return self

    def _run(self) -> None:
        me = threading.get_ident()
        while not self._stopping.wait(self.interval):
            natives = {t.ident: t.native_id for t in threading.enumerate() if t.native_id is not None}
            for ident, frame in sys._current_frames().items():
                native = natives.get(ident)
                if ident == me or native is None:
                    continue
                ticks = _thread_cpu_ticks(native)
                if ticks is None:
                    continue
                used = ticks - self._ticks.get(native, ticks)
                self._ticks[native] = ticks
                # The CPU a thread used since the last look (in clock ticks) is put down to
                # the stack it is on now: over many samples that converges on where it goes.
                if used > 0:
                    self._count(frame, used)

    def _count(self, frame: FrameType, weight: int) -> None:
        self.samples += weight
        self.own[_where(frame)] += weight
        seen: set[str] = set()
        current: FrameType | None = frame
        while current is not None:
            name = _where(current)
            if name not in seen:
                seen.add(name)
                self.inclusive[name] += weight
            current = current.f_back

    def report(self) -> dict[str, object]:
        """The counts as plain data: samples, and the top functions by own and inclusive share."""
        total = max(self.samples, 1)
        return {
            "cpu_ticks": self.samples,
            "interval_seconds": self.interval,
            "seconds": time.perf_counter() - self._started,
            "own": [[name, count / total] for name, count in self.own.most_common(TOP)],
            "inclusive": [[name, count / total] for name, count in self.inclusive.most_common(TOP)],
        }

    def stop(self) -> None:
        """Stop sampling and write the report."""
        self._stopping.set()
        self._thread.join(timeout=5)
        tmp = self.path.with_name(f".{self.path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(self.report(), ensure_ascii=False, indent=1), encoding="utf-8")
        os.replace(tmp, self.path)
        log.info("CPU profile (%d ticks) written to %s", self.samples, self.path)


def sampler_from_environment() -> CpuSampler | None:
    """A started sampler when NEWSBOT_PROFILE names a file, else None."""
    target = os.environ.get(PROFILE_ENV)
    if not target:
        return None
    return CpuSampler(Path(target)).start()
