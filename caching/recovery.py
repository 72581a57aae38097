"""This process's failure state in front of Redis: the breaker, and lost invalidations.

A Redis error opens the breaker (calls read through to the database until it closes). An
invalidation or write-through that did not reach Redis is never forgotten: before the
cache is used again, the global generation is bumped, so nothing cached before the outage
is served after it (docs/caching.md, Failure policy).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from redis import RedisError

from caching.metrics import Metrics
from project.redis.breaker import CircuitBreaker

logger = logging.getLogger("caching")


class Recovery:
    def __init__(
        self, *, breaker: CircuitBreaker, metrics: Metrics, bump_generation: Callable[[], None]
    ) -> None:
        self.breaker = breaker
        self._metrics = metrics
        self._bump_generation = bump_generation
        self._bump_pending = False

    @property
    def pending(self) -> bool:
        """A lost invalidation waits for the global generation bump."""
        return self._bump_pending

    def usable(self) -> bool:
        """May the cache be used now? Settles a pending generation bump first."""
        if not self.breaker.allow():
            return False
        if self._bump_pending:
            try:
                self._bump_generation()
            except RedisError as exc:
                self.failed("generation_bump", exc)
                return False
            self.breaker.success()
            self._bump_pending = False
            logger.warning("cache: global generation bumped after lost invalidations")
        return True

    def succeeded(self) -> None:
        self.breaker.success()

    def failed(self, operation: str, exc: RedisError) -> None:
        self._metrics.incr("redis_error")
        self.breaker.failure()
        logger.warning("cache: %s failed, Redis unavailable: %s", operation, exc)

    def lost(self, operation: str, what: str) -> None:
        """An invalidation or write-through did not reach Redis: never forget it."""
        self._bump_pending = True
        self._metrics.incr("invalidation_failed")
        logger.warning("cache: %s of %s deferred to a global generation bump", operation, what)

    def reset(self) -> None:
        """Forget the failure state: a closed breaker, no pending bump."""
        self.breaker = CircuitBreaker(cooldown=self.breaker.cooldown)
        self._bump_pending = False
