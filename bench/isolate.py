"""Measuring in a fresh process: each measurement with a memory figure or a start-up cost runs in
a spawned child that inherits nothing, so its peak resident set (VmHWM) is its own; and the
latency percentiles every child reports.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import resource
import traceback
from collections.abc import Callable, Sequence
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

import numpy as np

from bench.figures import BenchmarkError, Figures

log = logging.getLogger(__name__)


def peak_rss_bytes() -> int:
    """This process's peak resident set size (VmHWM)."""
    with contextlib.suppress(OSError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
    # ru_maxrss is in kilobytes on Linux.
    return int(resource.getrusage(resource.RUSAGE_SELF).ru_maxrss) * 1024


def child_main(connection: Connection, function: Callable[..., Figures], args: tuple[Any, ...]) -> None:
    try:
        connection.send((True, function(*args)))
    except BaseException:
        connection.send((False, traceback.format_exc()))
    finally:
        connection.close()


def run_isolated(function: Callable[..., Figures], *args: Any) -> Figures:
    """`function(*args)` in a freshly spawned Python process; its result (a picklable dict)."""
    context = multiprocessing.get_context("spawn")
    receiver, sender = context.Pipe(duplex=False)
    process = context.Process(target=child_main, args=(sender, function, args), name=function.__name__)
    process.start()
    sender.close()
    try:
        ok, payload = receiver.recv()
    except EOFError as exc:
        process.join()
        raise BenchmarkError(f"{function.__name__} died (exit code {process.exitcode})") from exc
    finally:
        receiver.close()
    process.join()
    if not ok:
        raise BenchmarkError(f"{function.__name__} failed:\n{payload}")
    result: Figures = payload
    return result


def percentiles(seconds: Sequence[float]) -> Figures:
    """p50/p95/p99 and mean of latencies, in milliseconds."""
    if not seconds:
        return {"n": 0, "p50": None, "p95": None, "p99": None, "mean": None}
    values = np.array(seconds, dtype=np.float64) * 1000.0
    p50, p95, p99 = np.percentile(values, [50, 95, 99]).tolist()
    return {"n": len(seconds), "p50": p50, "p95": p95, "p99": p99, "mean": float(values.mean())}
