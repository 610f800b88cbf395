"""Reading an xz archive with its decompression in a thread, ahead of the caller.

Decompressing xz is a third of reading a large JSONL archive. `lzma.open` decompresses in
small steps of Python code, which a thread would run only when the parser lets go of the GIL;
here the thread hands lzma whole blocks, which it decompresses without the GIL while the
caller parses the block before. Streams, trailing garbage and truncation are handled as
`lzma.open` handles them.
"""

from __future__ import annotations

import lzma
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import BinaryIO

# Compressed bytes read at a time. Large, because the thread waits for the GIL after each block
# (up to the interpreter's switch interval, 5 ms): 256 KB blocks won nothing, 4 MB 30%.
RAW_BYTES = 4 * 1024 * 1024
# The most one block decompresses to: a small archive of repeated bytes expands a thousandfold.
BLOCK_BYTES = 64 * 1024 * 1024


class _XzBlocks:
    """The decompressed blocks of an xz file, one at a time; b"" at its end."""

    def __init__(self, raw: BinaryIO) -> None:
        self.raw = raw
        self.decompressor = lzma.LZMADecompressor()
        self.later_stream = False
        self.ended = False

    def next_block(self) -> bytes:
        while not self.ended:
            if self.decompressor.eof:
                data = self.decompressor.unused_data or self.raw.read(RAW_BYTES)
                if not data:
                    break
                self.decompressor, self.later_stream = lzma.LZMADecompressor(), True
            elif self.decompressor.needs_input:
                data = self.raw.read(RAW_BYTES)
                if not data:
                    raise EOFError("Compressed file ended before the end-of-stream marker was reached")
            else:
                data = b""  # the decompressor still holds output
            try:
                block = self.decompressor.decompress(data, max_length=BLOCK_BYTES)
            except lzma.LZMAError:
                if not self.later_stream:
                    raise
                break  # after a whole stream, bytes that are not one are ignored
            if block:
                return block
        self.ended = True
        return b""


def xz_lines(path: Path) -> Iterator[bytes]:
    """The lines of an xz-compressed file (without their line breaks); errors as `lzma.open`'s."""
    with path.open("rb") as raw, ThreadPoolExecutor(1, thread_name_prefix="xz") as pool:
        blocks = _XzBlocks(raw)
        pending = pool.submit(blocks.next_block)
        rest = b""
        while block := pending.result():  # a read's error is raised here, in the caller
            pending = pool.submit(blocks.next_block)
            lines = (rest + block).split(b"\n")
            rest = lines.pop()
            yield from lines
        if rest:
            yield rest
