"""Cache counters: counted in process, folded into the shared Redis hash now and then."""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, cast

import pytest
from redis import Redis, RedisError

from caching import keys
from caching.metrics import EVENTS, FLUSH_INTERVAL, STATS_TTL, Metrics
from project.redis.client import get_client

if TYPE_CHECKING:
    from tests.conftest import Outage


class Clock:
    def __init__(self) -> None:
        self.now = 500.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def stored_totals(client: Redis) -> dict[str, int]:
    totals = cast("dict[bytes, bytes]", client.hgetall(keys.stats()))  # no decode_responses
    return {name.decode(): int(count) for name, count in totals.items()}


def test_incr_adds_the_count_and_ignores_zero_or_negative_counts() -> None:
    metrics = Metrics()
    metrics.incr("hit")
    metrics.incr("hit", 2)
    metrics.incr("miss", 0)
    metrics.incr("miss", -5)
    counts = metrics.snapshot()
    assert counts["hit"] == 3
    assert counts["miss"] == 0


def test_snapshot_lists_every_event_even_those_never_counted() -> None:
    metrics = Metrics()
    metrics.incr("fill")
    assert list(metrics.snapshot()) == list(EVENTS)
    assert sum(metrics.snapshot().values()) == 1


def test_counts_are_due_once_per_flush_interval_unless_forced() -> None:
    clock = Clock()
    metrics = Metrics(clock=clock)
    metrics.incr("hit", 4)
    clock.advance(FLUSH_INTERVAL - 0.1)
    assert metrics.take_due() is None
    assert metrics.snapshot()["hit"] == 4  # not due: nothing taken

    clock.advance(0.1)
    assert metrics.take_due() == Counter(hit=4)
    assert metrics.snapshot()["hit"] == 0

    metrics.incr("miss")
    assert metrics.take_due() is None  # the interval starts again at the last flush
    assert metrics.take_due(force=True) == Counter(miss=1)


def test_counts_given_back_after_a_failed_flush_are_added_to_new_ones() -> None:
    metrics = Metrics()
    metrics.incr("hit", 2)
    taken = metrics.take_due(force=True)
    assert taken is not None
    metrics.incr("hit")  # counted while the flush was failing
    metrics.give_back(taken)
    assert metrics.snapshot()["hit"] == 3


def test_observers_see_each_counted_event_once() -> None:
    metrics = Metrics()
    seen: list[str] = []
    metrics.observers.append(seen.append)
    metrics.incr("hit")
    metrics.incr("miss", 3)
    metrics.incr("fill", 0)
    metrics.incr("fill", -1)
    assert seen == ["hit", "miss", "miss", "miss"]


@pytest.mark.redis
def test_due_counts_ride_on_a_reads_pipeline_into_the_shared_hash(redis_client: Redis) -> None:
    clock = Clock()
    metrics = Metrics(clock=clock)
    metrics.incr("hit", 2)
    metrics.incr("redis_error")
    clock.advance(FLUSH_INTERVAL)

    pipe = redis_client.pipeline(transaction=False)
    pipe.get("the read itself")
    assert metrics.queue_due(pipe) == Counter(hit=2, redis_error=1)
    assert pipe.execute()[0] is None

    assert stored_totals(redis_client) == {"hit": 2, "redis_error": 1}
    assert 0 < redis_client.ttl(keys.stats()) <= STATS_TTL
    assert metrics.snapshot()["hit"] == 0


@pytest.mark.redis
def test_nothing_rides_on_the_pipeline_before_the_interval(redis_client: Redis) -> None:
    metrics = Metrics(clock=Clock())
    metrics.incr("hit", 2)

    pipe = redis_client.pipeline(transaction=False)
    pipe.get("the read itself")
    assert metrics.queue_due(pipe) == Counter()
    assert len(pipe) == 1  # only the read
    pipe.execute()

    assert not redis_client.exists(keys.stats())
    assert metrics.snapshot()["hit"] == 2  # still counted, for a later flush


@pytest.mark.redis
def test_flush_returns_the_totals_of_every_process(redis_client: Redis) -> None:
    one, two = Metrics(), Metrics()  # two processes sharing one Redis
    one.incr("hit", 2)
    two.incr("hit", 3)
    two.incr("miss")

    assert one.flush(redis_client) == {"hit": 2}
    assert two.flush(redis_client) == {"hit": 5, "miss": 1}
    assert one.flush(redis_client) == {"hit": 5, "miss": 1}  # nothing new: the same totals
    assert one.snapshot()["hit"] == two.snapshot()["hit"] == 0
    assert 0 < redis_client.ttl(keys.stats()) <= STATS_TTL


@pytest.mark.redis
def test_a_flush_while_redis_is_down_loses_no_counts(
    redis_down: Outage, redis_client: Redis
) -> None:
    metrics = Metrics()
    metrics.incr("hit", 2)
    with pytest.raises(RedisError):
        metrics.flush(get_client())
    assert metrics.snapshot()["hit"] == 2

    redis_down.end()
    assert metrics.flush(get_client()) == {"hit": 2}
    assert stored_totals(redis_client) == {"hit": 2}
