"""Cache counters: counted in process, folded into one Redis hash now and then.

Counting costs nothing on the hot path; every ``FLUSH_INTERVAL`` seconds a process adds
its counts to the shared hash (``GET /api/cache/stats/`` shows the sum) and logs them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable

logger = logging.getLogger("caching")

EVENTS = (
    "hit",
    "miss",
    "bypass",
    "fill",
    "fill_rejected",
    "singleflight_wait",
    "singleflight_timeout",
    "write_through",
    "write_through_rejected",
    "invalidation",
    "invalidation_failed",
    "tag_invalidation",
    "generation_bump",
    "redis_error",
)
FLUSH_INTERVAL = 30.0

Observer = Callable[[str], None]


class Metrics:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._last_flush = clock()
        self.observers: list[Observer] = []

    def incr(self, event: str) -> None:
        with self._lock:
            self._counts[event] += 1
        for observe in self.observers:
            observe(event)

    def snapshot(self) -> dict[str, int]:
        with self._lock:
            return {event: self._counts[event] for event in EVENTS}

    def take_due(self, *, force: bool = False) -> Counter[str] | None:
        """The counts to flush if the interval has passed (reset here), else None."""
        with self._lock:
            if not force and self._clock() - self._last_flush < FLUSH_INTERVAL:
                return None
            taken, self._counts = self._counts, Counter()
            self._last_flush = self._clock()
        if taken:
            logger.info("cache stats: %s", " ".join(f"{k}={v}" for k, v in sorted(taken.items())))
        return taken

    def give_back(self, counts: Counter[str]) -> None:
        """Re-add counts whose flush failed, so a Redis error loses none."""
        with self._lock:
            self._counts.update(counts)
