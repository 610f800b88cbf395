"""Loading an index while writers may be replacing it, without taking their lock.

Every writer replaces meta.json last (a rebuild swaps the whole directory, a publish writes its
new files first), so an index whose meta.json is the same before and after it was read was read
whole, from one generation; otherwise it is read again.

A read that overlapped a replacement is read again whatever it raised: numpy opens a memory-mapped
array's file twice (so header and data may come from two generations), and the readers below it
(numpy, json, the interpreter's parser) each fail in their own way on what they were handed. Only
a read of an index that did not change must succeed; its failure is raised as it is.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from index.index_files import META, IndexUnusable
from index.loaded_index import LoadedIndex

log = logging.getLogger(__name__)

LOAD_ATTEMPTS = 5


def _meta_stamp(directory: Path) -> tuple[int, int, bytes] | None:
    # The inode alone could be reused by a later generation; with the content it cannot pass
    # for another generation of the index.
    try:
        with (directory / META).open("rb") as handle:
            stat = os.fstat(handle.fileno())
            return stat.st_ino, stat.st_mtime_ns, handle.read()
    except OSError:
        return None


def load_index(directory: Path) -> LoadedIndex:
    """Load an index, reading it again when a writer replaced it meanwhile (raises IndexUnusable)."""
    for attempt in range(1, LOAD_ATTEMPTS + 1):
        before = _meta_stamp(directory)
        try:
            loaded = LoadedIndex(directory)
        except Exception as exc:
            if attempt == LOAD_ATTEMPTS or _meta_stamp(directory) == before:
                raise
            log.info("index changed while loading it (%s: %s); reading it again", type(exc).__name__, exc)
            continue
        if _meta_stamp(directory) == before:
            return loaded
        loaded.close()
        log.info("index changed while loading it; reading it again")
    raise IndexUnusable(f"{directory} kept changing while it was read")
