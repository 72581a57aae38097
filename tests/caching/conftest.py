from __future__ import annotations

from collections.abc import Callable

import pytest

from caching.metrics import Metrics
from caching.services import CacheService
from project.redis.breaker import CircuitBreaker


@pytest.fixture
def service() -> CacheService:
    """A fresh service on the test Redis; its breaker re-probes at once (cooldown 0)."""
    return CacheService(breaker=CircuitBreaker(cooldown=0), metrics=Metrics())


class Loader:
    """A loader that records its calls and can run a hook mid-load (the race window)."""

    def __init__(self, value: object, hook: Callable[[], object] | None = None) -> None:
        self.value = value
        self.hook = hook
        self.calls = 0

    def __call__(self) -> object:
        self.calls += 1
        value = self.value  # what the database returned
        if self.hook:
            self.hook()  # ... and meanwhile another process does something
        return value


@pytest.fixture
def loader() -> type[Loader]:
    """``loader(value, hook=None)``: a loader returning ``value``, counting its calls."""
    return Loader
