"""Redis losing acknowledged writes (a restart from an older snapshot, a promoted replica
that missed them): no entry from before the loss is served afterwards."""

from __future__ import annotations

from typing import Any

import pytest
import redis

from caching import keys
from caching.entries import Versioned
from caching.metrics import Metrics
from caching.services import CacheService
from project.redis.breaker import CircuitBreaker
from tests.own_redis import ReplicatedRedis, SnapshotRedis

pytestmark = [pytest.mark.redis, pytest.mark.django_db]

KEY = keys.entry("thing", 1, "api", 1)
TAGGED = keys.entry("thing", 2, "api", 1)


def on(client: redis.Redis) -> CacheService:
    return CacheService(client=client, breaker=CircuitBreaker(cooldown=0), metrics=Metrics())


def write(service: CacheService, key: str, data: Any, version: int) -> None:
    """A committed write as the registry makes it: the mark, then the write-through."""
    service.invalidate(key, version=version, ttl=60)
    assert service.write_through(key, data, version=version, ttl=60)


def test_after_a_restart_from_an_older_snapshot_nothing_from_before_it_is_served(
    snapshot_server: SnapshotRedis, loader: Any
) -> None:
    service = on(snapshot_server.client())
    service.get(KEY, loader(Versioned({"n": 1}, 1)), ttl=60)
    service.get(TAGGED, loader(Versioned({"n": 1}, 1)), ttl=60, tags=["things"])
    snapshot_server.snapshot()  # holds n=1 as current, for both
    write(service, KEY, {"n": 2}, 2)
    service.invalidate_tags(["things"])
    assert service.get(KEY, loader(None), ttl=60).value == {"n": 2}

    snapshot_server.crash_and_restart()  # n=2 and the tag's bump are lost

    fresh = service.get(KEY, loader(Versioned({"n": 2}, 2)), ttl=60)
    tagged = service.get(TAGGED, loader(Versioned({"n": 3}, 3)), ttl=60, tags=["things"])
    assert (fresh.value, fresh.status) == ({"n": 2}, "MISS")
    assert (tagged.value, tagged.status) == ({"n": 3}, "MISS")
    assert service.get(KEY, loader(None), ttl=60).status == "HIT"  # and it fills again
    assert service.metrics.snapshot()["data_loss_settled"] == 2  # the first start, the restart


def test_a_loss_noticed_by_another_connection_is_settled_before_the_next_hit(
    snapshot_server: SnapshotRedis, loader: Any
) -> None:
    """A session or a throttle may be the first to reconnect: the cache still settles."""
    service = on(snapshot_server.client())
    service.get(KEY, loader(Versioned({"n": 1}, 1)), ttl=60)
    snapshot_server.snapshot()
    write(service, KEY, {"n": 2}, 2)
    snapshot_server.crash_and_restart()
    snapshot_server.client().ping()  # someone else's connection notices it
    assert service.get(KEY, loader(Versioned({"n": 2}, 2)), ttl=60).status == "MISS"


def test_after_a_failover_to_a_replica_that_missed_writes_nothing_older_is_served(
    replicated: ReplicatedRedis, loader: Any
) -> None:
    service = on(replicated.client(replicated.primary))
    service.get(KEY, loader(Versioned({"n": 1}, 1)), ttl=60)
    replicated.wait_in_sync()
    replicated.cut_off_replica()  # promoted; the primary goes on acknowledging
    write(service, KEY, {"n": 2}, 2)

    after = on(replicated.client(replicated.replica))  # the clients follow the failover
    fresh = after.get(KEY, loader(Versioned({"n": 2}, 2)), ttl=60)
    assert (fresh.value, fresh.status) == ({"n": 2}, "MISS")
