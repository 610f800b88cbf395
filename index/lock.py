"""The one-writer-at-a-time lock over a corpus and its index, shared by every process.

Whoever changes the corpus or the index (the bot's publish and reindex, `newsbot publish`,
`newsbot index`) holds an exclusive `fcntl.flock` on a file beside the index directory (in the
data directory). Readers never take it: the index is replaced atomically, so a question is always
answered from a whole index. The holder writes its pid and what it is doing into the file, so a
writer that has to wait can say who it is waiting for. The kernel drops the lock when its holder
dies, so a crash never leaves it stuck.
"""

from __future__ import annotations

import fcntl
import logging
import os
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

log = logging.getLogger(__name__)

# Re-entry within one thread: flock on a second descriptor of the same file would wait for itself.
# Other threads of the process open their own descriptor and wait like any other process.
_held: dict[str, int] = {}
_held_lock = threading.RLock()


def lock_path(index_dir: Path) -> Path:
    """The lock file of an index (and its corpus): beside the index directory."""
    return index_dir.parent / f".{index_dir.name}.writer.lock"


def holder_of(index_dir: Path) -> str:
    """Who holds (or last held) the lock, as written by them: 'pid 123: publish x.txt'."""
    try:
        return lock_path(index_dir).read_text(encoding="utf-8").strip()
    except OSError:
        return ""


class LockBusy(RuntimeError):
    """The lock is held by another writer and the caller chose not to wait (or waited too long)."""


@contextmanager
def writer_lock(
    index_dir: Path,
    what: str,
    *,
    timeout: float | None = None,
    on_wait: Callable[[str], None] | None = None,
) -> Iterator[None]:
    """Hold the writer lock of `index_dir` for the block; waits (up to `timeout`) when it is taken.

    `on_wait` is told once who holds it when the lock is not free at once.
    """
    path = lock_path(index_dir)
    key = f"{path.resolve() if path.parent.exists() else path}:{threading.get_ident()}"
    with _held_lock:
        if key in _held:
            _held[key] += 1
            reentered = True
        else:
            reentered = False
    if reentered:
        try:
            yield
        finally:
            with _held_lock:
                _held[key] -= 1
        return
    path.parent.mkdir(parents=True, exist_ok=True)
    fd = os.open(path, os.O_RDWR | os.O_CREAT, 0o644)
    try:
        _acquire(fd, index_dir, timeout, on_wait)
        os.ftruncate(fd, 0)
        os.pwrite(fd, f"pid {os.getpid()}: {what} (since {time.strftime('%H:%M:%S')})\n".encode(), 0)
        with _held_lock:
            _held[key] = 1
        try:
            yield
        finally:
            with _held_lock:
                _held.pop(key, None)
            os.ftruncate(fd, 0)
            fcntl.flock(fd, fcntl.LOCK_UN)
    finally:
        os.close(fd)


def _acquire(fd: int, index_dir: Path, timeout: float | None, on_wait: Callable[[str], None] | None) -> None:
    try:
        fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return
    except BlockingIOError:
        pass
    who = holder_of(index_dir) or "another process"
    log.info("waiting for the writer lock held by %s", who)
    if on_wait is not None:
        on_wait(who)
    if timeout is None:
        fcntl.flock(fd, fcntl.LOCK_EX)
        return
    deadline = time.monotonic() + timeout
    delay = 0.05
    while True:
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
            return
        except BlockingIOError:
            if time.monotonic() >= deadline:
                raise LockBusy(f"the index is being changed by {who}") from None
            time.sleep(delay)
            delay = min(delay * 2, 0.5)
