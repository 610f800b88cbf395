"""Per-resident pacing of questions: a token bucket that allows short bursts, then about
`rate_per_second` questions a second.

Questions over the burst wait their turn in a bounded queue (`reserve`) and are answered in
order. Beyond the queue a resident is told, at most once every `warn_every` seconds, that this
question and those in the next seconds will not be answered; the rest is dropped, so a flood of
messages never turns into a flood of replies.
"""

from __future__ import annotations

import enum
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass

# Beyond this many tracked residents, idle (full) buckets are dropped.
MAX_TRACKED = 10_000


class Verdict(enum.Enum):
    """What to do with one question."""

    ALLOW = "allow"
    QUEUE = "queue"  # allowed after a wait (see `RateLimiter.reserve`)
    WARN = "warn"  # refuse, and tell the resident to slow down
    DROP = "drop"  # refuse silently: the resident was just told


@dataclass
class _Bucket:
    tokens: float
    updated: float
    warned_at: float | None = None


class RateLimiter:
    """Token buckets keyed by resident (user or chat id); safe to call from several threads."""

    def __init__(
        self,
        burst: int,
        rate_per_second: float,
        warn_every: float = 10.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.burst = max(1, int(burst))
        self.rate = max(0.001, float(rate_per_second))
        self.warn_every = warn_every
        self._clock = clock
        self._buckets: dict[int, _Bucket] = {}
        self._lock = threading.Lock()

    def _refilled(self, key: int, now: float) -> _Bucket:
        """`key`'s bucket (a new, full one for a new resident) topped up to `now`; call under the lock."""
        bucket = self._buckets.get(key)
        if bucket is None:
            if len(self._buckets) >= MAX_TRACKED:
                self._prune(now)
            bucket = self._buckets[key] = _Bucket(tokens=float(self.burst), updated=now)
        # Arrival times of one resident in two chats may come slightly out of order.
        now = max(now, bucket.updated)
        bucket.tokens = min(float(self.burst), bucket.tokens + (now - bucket.updated) * self.rate)
        bucket.updated = now
        return bucket

    def check(self, key: int, now: float | None = None) -> Verdict:
        """Take one token for `key`: ALLOW, or WARN/DROP when the resident is too fast.

        `now` (on this limiter's clock) is when the question arrived, when it is known: a chat's
        updates are handled one after another, so a burst is judged by when it was sent.
        """
        now = self._clock() if now is None else now
        with self._lock:
            bucket = self._refilled(key, now)
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return Verdict.ALLOW
            if bucket.warned_at is None or now - bucket.warned_at >= self.warn_every:
                bucket.warned_at = now
                return Verdict.WARN
            return Verdict.DROP

    def reserve(self, key: int, max_queued: int, now: float | None = None) -> tuple[Verdict, float]:
        """Like `check`, but a question over the burst waits its turn instead of being refused.

        Up to `max_queued` questions may wait; each gets the seconds to wait before it is
        answered (QUEUE), in the order they arrived. Beyond that: WARN (once per `warn_every`
        seconds) or DROP, as `check`. The wait counts from `now` (see `check`).
        """
        now = self._clock() if now is None else now
        with self._lock:
            bucket = self._refilled(key, now)
            if bucket.tokens >= 1.0:
                bucket.tokens -= 1.0
                return Verdict.ALLOW, 0.0
            # Tokens below zero are questions waiting; each is answered when its debt is repaid.
            if bucket.tokens - 1.0 >= -float(max_queued):
                bucket.tokens -= 1.0
                return Verdict.QUEUE, -bucket.tokens / self.rate
            if bucket.warned_at is None or now - bucket.warned_at >= self.warn_every:
                bucket.warned_at = now
                return Verdict.WARN, 0.0
            return Verdict.DROP, 0.0

    def _prune(self, now: float) -> None:
        refill = self.burst / self.rate
        # A bucket in debt (questions waiting) is not full yet: it is kept.
        for key in [k for k, b in self._buckets.items() if b.tokens >= 0 and now - b.updated >= refill]:
            del self._buckets[key]

    def __len__(self) -> int:
        with self._lock:
            return len(self._buckets)
