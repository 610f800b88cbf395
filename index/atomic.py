"""Replacing files and directories so that no reader or other writer ever sees half of one:
temporary names nobody else uses, a file written whole through one, and an atomic exchange of
two directories where the kernel offers one (Linux renameat2). No knowledge of what the files hold.
"""

from __future__ import annotations

import ctypes
import functools
import logging
import os
import sys
import uuid
from pathlib import Path
from typing import Any

log = logging.getLogger(__name__)


def temporary_name(path: Path) -> Path:
    """A temporary name beside `path` that no other writer (process or thread) uses."""
    return path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:8]}.tmp")


def write_atomically(path: Path, data: bytes) -> None:
    """Write `path` whole or not at all, through a temporary file no other writer uses."""
    # A unique temporary name: two writers never share one, and a crash leaves only a dot-file.
    tmp = temporary_name(path)
    try:
        tmp.write_bytes(data)
        tmp.replace(path)
    finally:
        tmp.unlink(missing_ok=True)


_RENAME_EXCHANGE = 2
_AT_FDCWD = -100


@functools.cache
def _renameat2() -> Any:
    try:
        libc = ctypes.CDLL(None, use_errno=True)
        function = libc.renameat2
    except (OSError, AttributeError):
        return None
    function.argtypes = [ctypes.c_int, ctypes.c_char_p, ctypes.c_int, ctypes.c_char_p, ctypes.c_uint]
    return function


def exchange(a: Path, b: Path) -> bool:
    """Swap two paths atomically; False when this system cannot."""
    function = _renameat2() if sys.platform.startswith("linux") else None
    if function is None:
        return False
    if function(_AT_FDCWD, os.fsencode(a), _AT_FDCWD, os.fsencode(b), _RENAME_EXCHANGE) == 0:
        return True
    log.debug("renameat2 exchange failed (errno %d); renaming instead", ctypes.get_errno())
    return False
