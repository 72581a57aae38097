"""Cache counters: counted in process, folded into one Redis hash now and then (and
counted for ``/metrics`` as they happen, in ``project.metrics``).

Counting costs nothing on the hot path; every ``FLUSH_INTERVAL`` seconds a process adds
its counts to the shared hash (``GET /api/cache/stats/`` shows the sum) and logs them.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import Counter
from collections.abc import Callable

from redis import Redis, RedisError
from redis.client import Pipeline

from caching import keys
from project.metrics import CACHE

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
    "write_through_failed",
    "invalidation",
    "invalidation_failed",
    "invalidation_recorded",
    "invalidation_replayed",
    "tag_invalidation",
    "generation_bump",
    "generation_restarted",
    "data_loss_settled",
    "redis_error",
)
FLUSH_INTERVAL = 30.0
STATS_TTL = 7 * 24 * 3600  # the shared totals, renewed by every flush

Observer = Callable[[str], None]


class Metrics:
    def __init__(self, *, clock: Callable[[], float] = time.monotonic) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._counts: Counter[str] = Counter()
        self._last_flush = clock()
        self.observers: list[Observer] = []

    def incr(self, event: str, count: int = 1) -> None:
        if count <= 0:
            return
        with self._lock:
            self._counts[event] += count
        CACHE.labels(event).inc(count)  # /metrics: current, not flushed
        for observe in self.observers:
            for _ in range(count):
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

    def queue_due(self, pipe: Pipeline) -> Counter[str]:
        """Queue the counts that are due on ``pipe`` (a read's): flushed with no round trip
        of their own. Give them back if the pipeline fails."""
        due = self.take_due() or Counter()
        for event, count in due.items():
            pipe.hincrby(keys.stats(), event, count)
        if due:
            pipe.expire(keys.stats(), STATS_TTL)
        return due

    def flush(self, client: Redis) -> dict[str, int]:
        """Add every count now and return the totals of all processes."""
        due = self.take_due(force=True) or Counter()
        try:
            pipe = client.pipeline(transaction=False)
            for event, count in due.items():
                pipe.hincrby(keys.stats(), event, count)
            pipe.expire(keys.stats(), STATS_TTL)
            pipe.hgetall(keys.stats())
            totals = pipe.execute()[-1]
        except RedisError:
            self.give_back(due)
            raise
        return {name.decode(): int(count) for name, count in totals.items()}
