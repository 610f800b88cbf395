"""The benchmark's shared vocabulary: figures (plain dicts, printed or dumped as JSON), how progress
is reported, the sizes and limits that decide what is measured, and the error a failed
measurement raises.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import Any

log = logging.getLogger(__name__)

K = 10


WARMUP_QUERIES = 3


# Questions on which every reference's exact top 10 (and scores) are compared with ours.
AGREEMENT_QUERIES = 50


ALL = "all"


REFERENCE_LIMIT = 100_000


# From this many articles on, the city-scale targets apply (Shanghai's ten years of papers).
CITY_ARTICLES = 400_000


TARGET_MIN_ARTICLES = 50_000


Report = Callable[[str], None]


Figures = dict[str, Any]


class BenchmarkError(RuntimeError):
    """A measurement could not be made (the message says which and why)."""
