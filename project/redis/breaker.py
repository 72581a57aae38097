"""A per-process circuit breaker in front of Redis.

While Redis is down, a request would otherwise wait for the socket timeout on every call.
After a failure the breaker opens: calls are skipped (the caller applies its failure
policy, e.g. the cache reads from the database) until ``cooldown`` has passed; then one
caller probes, and a success closes it. Used by the cache service and the event publisher.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable


class CircuitBreaker:
    def __init__(
        self, *, cooldown: float = 2.0, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self.cooldown = cooldown
        self._clock = clock
        self._lock = threading.Lock()
        self._open_until: float | None = None
        self._probing = False

    @property
    def is_open(self) -> bool:
        return self._open_until is not None

    def allow(self) -> bool:
        """True if a Redis call may be tried now (closed, or this caller is the probe)."""
        if self._open_until is None:
            return True
        with self._lock:
            if self._open_until is None:
                return True
            if self._probing or self._clock() < self._open_until:
                return False
            self._probing = True
            return True

    def success(self) -> None:
        if self._open_until is not None:
            with self._lock:
                self._open_until = None
                self._probing = False

    def failure(self) -> None:
        with self._lock:
            self._open_until = self._clock() + self.cooldown
            self._probing = False
