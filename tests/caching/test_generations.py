"""Generation counters that go missing (deleted with part of the keyspace, evicted under
``allkeys-lru``) never walk through their old values again: an entry written under one
of those values stays a miss, whatever the writes that follow."""

from __future__ import annotations

from collections import Counter as Tally
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

import pytest
import redis
from django.conf import settings
from redis.crc import key_slot

from caching import keys
from caching.entries import Versioned
from caching.metrics import Metrics
from caching.services import CacheService
from project.redis.breaker import CircuitBreaker
from tests.own_redis import SnapshotRedis

pytestmark = [pytest.mark.redis, pytest.mark.django_db]

ENTRY = keys.entry("thing", 1, "api", 1)
TAG = "things"
JUNK = b"x" * 10_000


@dataclass(frozen=True)
class Counter:
    key: str
    bump: Callable[[CacheService], None]  # the write that moves it on


COUNTERS = {
    "tag": Counter(keys.tag_generation(TAG), lambda s: s.invalidate_tags([TAG])),
    "group": Counter(keys.group_generation(ENTRY), lambda s: s.invalidate_all()),
}


@pytest.fixture(params=sorted(COUNTERS))
def counter(request: pytest.FixtureRequest) -> Counter:
    return COUNTERS[request.param]


@pytest.fixture
def own(snapshot_server: SnapshotRedis) -> redis.Redis:
    return snapshot_server.client()


@pytest.fixture
def service(own: redis.Redis) -> CacheService:
    return CacheService(client=own, breaker=CircuitBreaker(cooldown=0), metrics=Metrics())


@pytest.fixture
def invalidated(service: CacheService, counter: Counter, loader: Any) -> None:
    """An entry written under the counter's current value; then a write moves it on."""
    service.get(ENTRY, loader(Versioned({"n": 1}, 1)), ttl=600, tags=[TAG])
    assert service.get(ENTRY, loader(None), ttl=600, tags=[TAG]).status == "HIT"
    counter.bump(service)


def assert_stays_a_miss(
    service: CacheService, own: redis.Redis, counter: Counter, loader: Any
) -> None:
    """A counter that restarted low would pass through the entry's value again, and make
    the old entry a HIT."""
    assert own.exists(ENTRY)  # the old entry is still there, under an old generation
    for _ in range(3):
        for _ in range(2):  # the read that makes the missing counter, then one more
            read = service.get(ENTRY, loader(None), ttl=600, tags=[TAG])
            assert (read.value, read.status) == (None, "MISS")  # no row: nothing filled
        counter.bump(service)  # the next write
    after = service.get(ENTRY, loader(Versioned({"n": 3}, 3)), ttl=600, tags=[TAG])
    assert (after.value, after.status) == ({"n": 3}, "MISS")


def dumped(own: redis.Redis, key: str) -> bytes:
    value = own.dump(key)
    assert isinstance(value, bytes), f"{key} is missing"
    return value


def test_a_deleted_counter_restarts_above_its_old_values(
    service: CacheService, own: redis.Redis, counter: Counter, invalidated: None, loader: Any
) -> None:
    own.delete(counter.key)  # e.g. with part of the keyspace
    assert_stays_a_miss(service, own, counter, loader)


def test_an_evicted_counter_restarts_above_its_old_values(
    service: CacheService, own: redis.Redis, counter: Counter, invalidated: None, loader: Any
) -> None:
    # Redis's LRU clock ticks once a second: give the counter, then the filler, an old
    # access time (RESTORE ... IDLETIME), so that the policy, not chance, picks them.
    own.restore(counter.key, 0, dumped(own, counter.key), replace=True, idletime=1000)
    own.set("filler", JUNK)
    filler = dumped(own, "filler")
    used = int(own.info("memory")["used_memory"])
    own.config_set("maxmemory-policy", "allkeys-lru")
    own.config_set("maxmemory", used + 1_000_000)
    others = [c.key for c in COUNTERS.values() if c.key != counter.key]
    for n in range(2_000):  # until real eviction has taken the counter
        own.hgetall(ENTRY)  # the entry and the other counter stay in use
        for other in others:
            own.get(other)
        own.restore(f"filler:{n}", 0, filler, idletime=500)
        if not own.exists(counter.key):
            break
    assert not own.exists(counter.key), "the counter was never evicted"
    assert int(own.info("stats")["evicted_keys"]) > 0
    own.config_set("maxmemory", 0)
    assert_stays_a_miss(service, own, counter, loader)


def test_the_everything_generation_is_no_single_hot_key() -> None:
    """Every cached read fetches its group's generation: sixteen groups, sixteen slots,
    and entries spread over all of them."""
    assert len({key_slot(key.encode()) for key in keys.group_generations()}) == keys.GROUPS
    per_group = Tally(
        keys.group_generation(keys.entry("user", n, "api", 1)) for n in range(1, 1601)
    )
    assert set(per_group) == set(keys.group_generations())
    assert min(per_group.values()) > 1600 / keys.GROUPS / 2


def test_on_a_cluster_every_primary_holds_some_of_the_groups(redis_client: redis.Redis) -> None:
    if settings.REDIS_TOPOLOGY.kind != "cluster":
        pytest.skip("needs Redis Cluster (make test-cluster)")
    nodes = {redis_client.get_node_from_key(key).name for key in keys.group_generations()}  # type: ignore[attr-defined]
    assert nodes == {node.name for node in redis_client.get_primaries()}  # type: ignore[attr-defined]
