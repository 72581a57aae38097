"""The cache service's protections, each against the real Redis and a deterministic race."""

from __future__ import annotations

import threading
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
import redis
from django.conf import settings
from redis.backoff import NoBackoff
from redis.retry import Retry

from caching import keys
from caching.entries import DELETED, Versioned
from caching.services import CacheService
from project.redis.breaker import CircuitBreaker
from project.redis.local import LocalRedis

if TYPE_CHECKING:
    from tests.conftest import Outage

pytestmark = [pytest.mark.redis, pytest.mark.django_db]

KEY = keys.entry("thing", 1, "api", 1)


def test_a_miss_loads_and_fills_then_hits(service: CacheService, loader: Any) -> None:
    load = loader({"name": "v1"})
    first = service.get(KEY, load, ttl=60)
    second = service.get(KEY, load, ttl=60)
    assert (first.value, first.status) == ({"name": "v1"}, "MISS")
    assert (second.value, second.status) == ({"name": "v1"}, "HIT")
    assert load.calls == 1


def test_every_entry_and_lease_has_a_ttl(
    service: CacheService, redis_client: redis.Redis, loader: Any
) -> None:
    lease_ttls: list[int] = []
    # The lease exists while the loader runs: look at it then (-1: no TTL, -2: no lease).
    seen = loader({"a": 1}, hook=lambda: lease_ttls.append(redis_client.pttl(keys.lease(KEY))))
    service.get(KEY, seen, ttl=60)
    assert 0 < redis_client.pttl(KEY) <= 60_000
    assert len(lease_ttls) == 1
    assert 0 < lease_ttls[0] <= service.lease_ms
    assert redis_client.exists(keys.lease(KEY)) == 0  # the fill ended it


def test_stale_set_is_refused_by_the_lease(service: CacheService, loader: Any) -> None:
    """Reader loads v1; a writer commits v2 and invalidates; the reader's fill is dropped."""
    reader = loader({"name": "v1"}, hook=lambda: service.invalidate(KEY, ttl=60))
    assert service.get(KEY, reader, ttl=60).value == {"name": "v1"}  # served, not cached
    after = service.get(KEY, loader({"name": "v2"}), ttl=60)
    assert (after.value, after.status) == ({"name": "v2"}, "MISS")
    assert service.metrics.snapshot()["fill_rejected"] == 1


def write(service: CacheService, data: Any, version: int) -> bool:
    """A writer as the registry runs one: the mark before its commit, the write-through after."""
    service.invalidate(KEY, version=version, ttl=60)
    return service.write_through(KEY, data, version=version, ttl=60)


def test_a_write_through_without_its_mark_stores_nothing(
    service: CacheService, loader: Any
) -> None:
    """The mark was evicted: a late write-through of an older row must not land where the
    newer entry was; the next read fills from the database instead."""
    assert service.write_through(KEY, {"name": "v5"}, version=5, ttl=60) is False
    assert service.get(KEY, loader(Versioned({"name": "v6"}, 6)), ttl=60).status == "MISS"


def test_a_fill_older_than_a_write_through_is_refused(service: CacheService, loader: Any) -> None:
    writer = lambda: write(service, {"name": "v5"}, 5)  # noqa: E731
    reader = loader(Versioned({"name": "v4"}, 4), hook=writer)
    service.get(KEY, reader, ttl=60)
    hit = service.get(KEY, loader(None), ttl=60)
    assert (hit.value, hit.status) == ({"name": "v5"}, "HIT")


def test_write_throughs_arriving_in_reverse_order_keep_the_newer(
    service: CacheService, loader: Any
) -> None:
    assert write(service, {"name": "v6"}, 6) is True
    assert write(service, {"name": "v5"}, 5) is False
    assert service.get(KEY, loader(None), ttl=60).value == {"name": "v6"}


def test_a_late_invalidation_keeps_a_newer_value(service: CacheService, loader: Any) -> None:
    write(service, {"name": "v7"}, 7)
    service.invalidate(KEY, version=6, ttl=60)  # the commit of v6, reported late
    assert service.get(KEY, loader(None), ttl=60).value == {"name": "v7"}


def test_a_deletion_tombstone_refuses_older_writes(service: CacheService, loader: Any) -> None:
    service.invalidate(KEY, version=DELETED, ttl=60)
    assert write(service, {"name": "v5"}, 5) is False
    result = service.get(KEY, loader(None), ttl=60)
    assert (result.value, result.status) == (None, "MISS")


def test_sixteen_concurrent_misses_run_the_loader_once(
    service: CacheService, loader: Any, together: Any
) -> None:
    readers = 16
    all_waiting = threading.Event()
    waits = 0
    lock = threading.Lock()

    def count_waits(event: str) -> None:
        nonlocal waits
        if event == "singleflight_wait":
            with lock:
                waits += 1
                if waits == readers - 1:
                    all_waiting.set()

    service.metrics.observers.append(count_waits)
    service.wait_max = 10.0
    # The lease holder's load takes until every other reader is waiting for it.
    load = loader({"name": "v1"}, hook=lambda: all_waiting.wait(timeout=10))
    results = together(readers, lambda _: service.get(KEY, load, ttl=60))

    assert all_waiting.is_set()
    assert load.calls == 1
    assert [r.value for r in results] == [{"name": "v1"}] * readers
    assert sorted(r.status for r in results) == ["HIT"] * (readers - 1) + ["MISS"]


def test_a_waiter_reads_through_when_the_holder_finds_nothing(
    service: CacheService, loader: Any
) -> None:
    """The lease holder's row is gone: it releases the lease and waiters stop waiting."""
    service.wait_max = 10.0
    waiting = threading.Event()
    service.metrics.observers.append(
        lambda event: waiting.set() if event == "singleflight_wait" else None
    )
    waiter_result = []
    waiter = threading.Thread(
        target=lambda: waiter_result.append(service.get(KEY, loader({"x": 1}), ttl=60))
    )

    def second_reader_arrives() -> None:
        waiter.start()
        assert waiting.wait(timeout=10)  # it found our lease and waits for the fill

    assert service.get(KEY, loader(None, hook=second_reader_arrives), ttl=60).value is None
    waiter.join()
    assert waiter_result[0].value == {"x": 1}
    assert service.metrics.snapshot()["singleflight_timeout"] == 1


def test_tagged_entries_drop_when_the_tag_is_invalidated(
    service: CacheService, loader: Any
) -> None:
    service.get(KEY, loader(["a"]), ttl=60, tags=["things"])
    assert service.get(KEY, loader(None), ttl=60, tags=["things"]).status == "HIT"
    service.invalidate_tags(["things"])
    after = service.get(KEY, loader(["a", "b"]), ttl=60, tags=["things"])
    assert (after.value, after.status) == (["a", "b"], "MISS")


def test_a_tag_bumped_during_a_load_is_not_overwritten(service: CacheService, loader: Any) -> None:
    """Tag/value race: the page loaded before a change is stored, but never served."""
    reader = loader(["old"], hook=lambda: service.invalidate_tags(["things"]))
    service.get(KEY, reader, ttl=60, tags=["things"])
    after = service.get(KEY, loader(["new"]), ttl=60, tags=["things"])
    assert (after.value, after.status) == (["new"], "MISS")


def test_redis_down_reads_through_and_stops_trying(redis_down: Outage, loader: Any) -> None:
    clock = [0.0]
    service = CacheService(breaker=CircuitBreaker(cooldown=5, clock=lambda: clock[0]))
    first = service.get(KEY, loader({"db": 1}), ttl=60)
    assert (first.value, first.status) == ({"db": 1}, "BYPASS")
    assert service.metrics.snapshot()["redis_error"] == 1
    second = service.get(KEY, loader({"db": 1}), ttl=60)
    assert second.status == "BYPASS"
    # Breaker open: no connection attempt (no error, no timeout waited out).
    assert service.metrics.snapshot()["redis_error"] == 1
    redis_down.end()
    clock[0] = 6.0  # cooldown over: the next call probes, succeeds, closes the breaker
    assert service.get(KEY, loader({"db": 1}), ttl=60).status == "MISS"
    assert service.get(KEY, loader({"db": 1}), ttl=60).status == "HIT"


def test_an_invalidation_lost_to_an_outage_is_applied_when_redis_returns(
    service: CacheService, redis_down: Outage, loader: Any
) -> None:
    redis_down.end()  # up while v1 is cached
    service.get(KEY, loader({"name": "v1"}), ttl=60)
    redis_down.begin()
    service.invalidate(KEY, ttl=60)  # the writer's commit of v2: lost
    redis_down.end()
    after = service.get(KEY, loader({"name": "v2"}), ttl=60)
    assert (after.value, after.status) == ({"name": "v2"}, "MISS")
    counts = service.metrics.snapshot()
    assert (counts["invalidation_recorded"], counts["invalidation_replayed"]) == (1, 1)
    assert counts["generation_bump"] == 0  # that one key, not everyone's cache


@pytest.mark.standalone
def test_a_stalled_redis_is_bypassed_and_its_lost_invalidation_kept(
    service: CacheService, redis_client: redis.Redis, loader: Any
) -> None:
    """Redis paused (slow, data kept): the invalidation times out, then still takes effect."""
    service.get(KEY, loader({"name": "v1"}), ttl=60)
    admin = redis.Redis.from_url(settings.REDIS_URL)
    admin.execute_command("CLIENT", "PAUSE", 1000, "WRITE")
    try:
        service.invalidate(KEY, ttl=60)  # EVALSHA of a writing script blocks: times out
    finally:
        admin.execute_command("CLIENT", "UNPAUSE")
    assert redis_client.hget(KEY, "d") is not None  # the old value is still in Redis
    after = service.get(KEY, loader({"name": "v2"}), ttl=60)
    assert (after.value, after.status) == ({"name": "v2"}, "MISS")


def test_metrics_reach_the_shared_totals(service: CacheService, loader: Any) -> None:
    service.get(KEY, loader({"a": 1}), ttl=60)
    service.get(KEY, loader({"a": 1}), ttl=60)
    totals = service.flush_metrics()
    assert (totals["miss"], totals["hit"], totals["fill"]) == (1, 1, 1)
    assert service.metrics.snapshot()["hit"] == 0  # moved to the shared hash


def test_cache_disabled_reads_the_database_every_time(
    service: CacheService, settings: object, loader: Any
) -> None:
    settings.CACHE_ENABLED = False  # type: ignore[attr-defined]
    load = loader({"a": 1})
    assert [service.get(KEY, load, ttl=60).status for _ in range(2)] == ["BYPASS", "BYPASS"]
    assert load.calls == 2


def test_redis_stopped_and_restarted_with_its_data(tmp_path: Path, loader: Any) -> None:
    """The server goes away and comes back from its dump, old entries and all."""
    server = LocalRedis(tmp_path / "redis", persistent=True)
    server.ensure_running()
    client = redis.Redis(
        unix_socket_path=str(server.socket_path),
        socket_timeout=0.25,
        socket_connect_timeout=0.25,
        retry=Retry(NoBackoff(), 0),
    )
    service = CacheService(client=client, breaker=CircuitBreaker(cooldown=0))
    try:
        service.get(KEY, loader({"name": "v1"}), ttl=60)
        server.stop()  # SHUTDOWN SAVE: v1 is in the dump
        assert service.get(KEY, loader({"name": "v1"}), ttl=60).status == "BYPASS"
        service.invalidate(KEY, ttl=60)  # the commit of v2, while Redis is away
        server.ensure_running()
        assert client.hget(KEY, "d") is not None  # v1 came back with the dump
        after = service.get(KEY, loader({"name": "v2"}), ttl=60)
        assert (after.value, after.status) == ({"name": "v2"}, "MISS")
        assert service.get(KEY, loader(None), ttl=60).value == {"name": "v2"}
    finally:
        server.stop()
