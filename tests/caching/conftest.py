from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from caching.breaker import CircuitBreaker
from caching.metrics import Metrics
from caching.services import CacheService, cache_service
from project.redis import get_client

DEAD_REDIS = Redis(
    unix_socket_path="/nonexistent/redis.sock",
    socket_connect_timeout=0.1,
    retry=Retry(NoBackoff(), 0),
)


class Switch:
    """A client factory that can be pointed at a dead Redis: an outage on demand."""

    def __init__(self) -> None:
        self.down = False
        self.calls = 0

    def __call__(self) -> Redis:
        self.calls += 1
        return DEAD_REDIS if self.down else get_client()


@pytest.fixture
def redis_switch() -> Switch:
    return Switch()


@pytest.fixture
def service(redis_switch: Switch) -> CacheService:
    """A fresh service on the test Redis; its breaker re-probes at once (cooldown 0)."""
    return CacheService(client=redis_switch, breaker=CircuitBreaker(cooldown=0), metrics=Metrics())


@pytest.fixture(autouse=True)
def fresh_shared_service() -> Iterator[None]:
    """The process-wide service keeps breaker state; no test may leak it into another."""
    cache_service.breaker = CircuitBreaker()
    cache_service._generation_bump_pending = False
    yield
    cache_service.breaker = CircuitBreaker()
    cache_service._generation_bump_pending = False


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
