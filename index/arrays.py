"""Reading the index's .npy arrays, safely from several threads at once.

numpy parses a .npy header with `ast.literal_eval`, and CPython 3.11 before 3.11.8 keeps the
AST constructor's recursion depth in state shared by every thread (gh-106905): two threads
parsing at once can fail with "SystemError: AST constructor recursion depth mismatch" (seen when
readers loaded an index while a writer replaced it). Headers are therefore read one at a time;
the data itself is memory-mapped or read outside the parse.
"""

from __future__ import annotations

import threading
from pathlib import Path
from typing import Any

import numpy as np

_HEADER_LOCK = threading.Lock()


def open_array(path: Path, mmap: bool = True) -> np.ndarray[Any, Any]:
    """The array in a .npy file as numpy gives it: a read-only np.memmap (which knows its file
    offset), or read into memory; never unpickles."""
    with _HEADER_LOCK:
        return np.load(path, mmap_mode="r" if mmap else None, allow_pickle=False)


def load_array(path: Path, mmap: bool = True) -> np.ndarray[Any, Any]:
    """The array in a .npy file as a plain ndarray (memory-mapped read-only, or in memory)."""
    return np.asarray(open_array(path, mmap))
