from __future__ import annotations

import django_rq
import pytest

from jobs import relay
from project.redis.breaker import CircuitBreaker


@pytest.fixture(autouse=True)
def empty_task_queue() -> None:
    """The queue's Redis is the suite's (emptied before each test anyway), or on a Cluster
    the suite's own standalone server beside it (TASKS_REDIS_URL): emptied here."""
    django_rq.get_connection("default").flushdb()


@pytest.fixture(autouse=True)
def fresh_breaker(monkeypatch: pytest.MonkeyPatch) -> None:
    """The hand-off's breaker is per process: no test inherits another's refusals, and
    Redis back means back (no cool-down) unless a test brings its own."""
    monkeypatch.setattr(relay, "breaker", CircuitBreaker(cooldown=0))
