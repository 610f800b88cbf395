"""Reading a large xz archive with its decompression in a child process, ahead of the parser.

Decompressing xz takes longer than parsing the JSON lines it holds, and lzma cannot share the
work between threads of this process: `lzma.open` decompresses in small steps of Python code
that wait for the GIL the parser holds. A child Python process decompresses the file on
another core and streams the bytes through a pipe; truncation and corruption are raised here
as `lzma.open` raises them, after the lines read before them. A small archive is read in this
process: starting a child costs more than it saves.
"""

from __future__ import annotations

import contextlib
import fcntl
import logging
import lzma
import os
import queue
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path

log = logging.getLogger(__name__)

# Compressed size from which a child decompresses (it starts in about 30 ms).
CHILD_MIN_BYTES = 4 * 1024 * 1024
READ_BYTES = 1024 * 1024
PIPE_BYTES = 1024 * 1024
AHEAD_BLOCKS = 32  # at most this many blocks decompressed ahead of the parser
F_SETPIPE_SZ = getattr(fcntl, "F_SETPIPE_SZ", 1031)  # Linux; elsewhere the call fails harmlessly
# The child: lzma.open's handling of streams, trailing garbage and damage, with whole blocks
# handed to the decompressor (output before damage is written before the error is).
_CHILD = """
import lzma, sys
out = sys.stdout.buffer
try:
    with open(sys.argv[1], "rb") as raw:
        decompressor, later = lzma.LZMADecompressor(), False
        while True:
            if decompressor.eof:
                data = decompressor.unused_data or raw.read(1 << 18)
                if not data:
                    break
                decompressor, later = lzma.LZMADecompressor(), True
            elif decompressor.needs_input:
                data = raw.read(1 << 18)
                if not data:
                    raise EOFError("Compressed file ended before the end-of-stream marker was reached")
            else:
                data = b""
            try:
                out.write(decompressor.decompress(data, max_length=1 << 24))
            except lzma.LZMAError:
                if not later:
                    raise
                break
except (EOFError, lzma.LZMAError, OSError) as exc:
    out.flush()
    sys.stderr.write(f"{type(exc).__name__}\\n{exc}")
    sys.exit(3)
"""


def xz_lines(path: Path) -> Iterator[bytes]:
    """The lines of an xz-compressed file, each with its line break (as `lzma.open` gives them)."""
    child = None
    if path.stat().st_size >= CHILD_MIN_BYTES:
        try:
            child = subprocess.Popen(
                [sys.executable, "-I", "-c", _CHILD, str(path)], stdout=subprocess.PIPE, stderr=subprocess.PIPE
            )
        except OSError as exc:
            log.info("decompressing %s in this process: no child process (%s)", path, exc)
    if child is None:
        with lzma.open(path, "rb") as handle:
            yield from handle
    else:
        yield from _child_lines(child)


def _child_lines(child: subprocess.Popen[bytes]) -> Iterator[bytes]:
    assert child.stdout is not None and child.stderr is not None
    with contextlib.suppress(OSError):  # a larger pipe lets the child run further ahead
        fcntl.fcntl(child.stdout.fileno(), F_SETPIPE_SZ, PIPE_BYTES)
    # A thread drains the pipe as fast as the child fills it (up to a bound), the parser
    # taking blocks from it; b"" marks the end.
    blocks: queue.Queue[bytes] = queue.Queue(maxsize=AHEAD_BLOCKS)
    drain = threading.Thread(target=_drain, args=(child.stdout.fileno(), blocks), name="xz-pipe", daemon=True)
    drain.start()
    ended = False
    try:
        rest = b""
        while block := blocks.get():
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            for line in lines:
                yield line + b"\n"
        ended = True
        error = child.stderr.read().decode("utf-8", "replace")
        if child.wait() != 0:
            raise _child_error(error, child.returncode)
        if rest:
            yield rest
    finally:
        if child.poll() is None:
            child.kill()
        while not ended:  # let the thread see the pipe's end, wherever the reader stopped
            ended = not blocks.get()
        drain.join()
        child.wait()
        child.stdout.close()
        child.stderr.close()


def _drain(fd: int, blocks: queue.Queue[bytes]) -> None:
    try:
        while block := os.read(fd, READ_BYTES):
            blocks.put(block)
    finally:
        blocks.put(b"")


def _child_error(report: str, returncode: int) -> Exception:
    kind, _, message = report.partition("\n")
    if kind == "EOFError":
        return EOFError(message)
    if kind == "LZMAError":
        return lzma.LZMAError(message)
    return OSError(message or f"the decompressing process ended with status {returncode}")
