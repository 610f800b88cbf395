"""Questions refused because a resident sent more than the queue holds, kept until the resident
is told which they were.

No refused question is dropped silently, and a flood does not turn into a flood of notices:
each resident gets at most one notice every `every` seconds, listing every question refused
since the last one (`take`). The Telegram edge decides when to send it (bot.edge.resident_common:
once the burst has been read, or when the pause since the last notice is over).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

# Beyond this many residents with refused questions waiting, the oldest are forgotten.
MAX_RESIDENTS = 10_000
# Questions remembered per resident between two notices (the rest are counted).
MAX_KEPT = 50


@dataclass
class _Refused:
    questions: list[str] = field(default_factory=list)
    more: int = 0


@dataclass(frozen=True)
class Refused:
    """What one notice says: the refused questions, and how many more were not kept."""

    questions: tuple[str, ...]
    more: int = 0

    @property
    def total(self) -> int:
        return len(self.questions) + self.more


class RefusedQuestions:
    """Per-resident refused questions and when each resident was last told; thread-safe."""

    def __init__(self, every: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.every = every
        self._clock = clock
        self._lock = threading.Lock()
        self._waiting: dict[int, _Refused] = {}
        self._told_at: dict[int, float] = {}

    def add(self, key: int, question: str) -> None:
        """Remember a refused question of resident `key`."""
        with self._lock:
            refused = self._waiting.get(key)
            if refused is None:
                if len(self._waiting) >= MAX_RESIDENTS:
                    self._waiting.pop(next(iter(self._waiting)))
                refused = self._waiting[key] = _Refused()
            if len(refused.questions) < MAX_KEPT:
                refused.questions.append(question)
            else:
                refused.more += 1

    def waiting(self, key: int) -> bool:
        """Whether resident `key` has refused questions nobody told them about yet."""
        with self._lock:
            return key in self._waiting

    def due_in(self, key: int) -> float:
        """Seconds until resident `key` may be sent the next notice (0: now)."""
        with self._lock:
            told = self._told_at.get(key)
        return 0.0 if told is None else max(0.0, told + self.every - self._clock())

    def take(self, key: int) -> Refused | None:
        """The questions to list in a notice now (None when there are none); marks `key` told."""
        now = self._clock()
        with self._lock:
            refused = self._waiting.pop(key, None)
            if refused is None:
                return None
            self._told_at[key] = now
            if len(self._told_at) > MAX_RESIDENTS:
                for old in [k for k, at in self._told_at.items() if now - at >= self.every]:
                    del self._told_at[old]
            return Refused(tuple(refused.questions), refused.more)
