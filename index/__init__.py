"""Search core of newsbot: issue parsing, segmentation, BM25 ranking, snippets and summaries.

This package never imports `bot` or `telegram`; the Telegram layer is built on top of it.
"""

__version__ = "0.1.0"
