"""Redis Cluster for django-redis: failures are RedisErrors, one client per URL, get_many
across slots. The happy paths run on the Cluster leg (``make test-cluster``)."""

from __future__ import annotations

import socket
import time
from collections.abc import Iterator
from typing import Any

import pytest
from django.conf import settings
from django.core.cache import cache
from redis.cluster import RedisCluster
from redis.crc import key_slot
from redis.exceptions import ConnectionError as RedisConnectionError

from project.redis.client import get_client
from project.redis.cluster import ClusterConnectionFactory, cluster_client

FAST = {"SOCKET_TIMEOUT": 0.1, "SOCKET_CONNECT_TIMEOUT": 0.1}
on_cluster = settings.REDIS_TOPOLOGY.kind == "cluster"
needs_cluster = pytest.mark.skipif(not on_cluster, reason="needs Redis Cluster (make test-cluster)")


@pytest.fixture
def silent_node() -> Iterator[tuple[str, int]]:
    """A node that accepts connections and never answers (a stalled server)."""
    with socket.socket() as listener:
        listener.bind(("127.0.0.1", 0))
        listener.listen(16)
        yield "127.0.0.1", listener.getsockname()[1]


def test_an_unreachable_cluster_is_a_redis_connection_error_at_once() -> None:
    """redis-py's RedisClusterException is no RedisError: the failure policies would miss it."""
    started = time.monotonic()
    with pytest.raises(RedisConnectionError, match="Redis Cluster unreachable"):
        cluster_client([("127.0.0.1", 1)], socket_timeout=0.1, socket_connect_timeout=0.1)
    assert time.monotonic() - started < 1.0


def test_a_stalled_cluster_fails_within_the_socket_timeout(silent_node: tuple[str, int]) -> None:
    started = time.monotonic()
    with pytest.raises(RedisConnectionError):
        cluster_client([silent_node], socket_timeout=0.1, socket_connect_timeout=0.1)
    assert time.monotonic() - started < 1.0  # no retries with backoff


def test_the_factory_tries_again_after_a_failed_connect() -> None:
    """Nothing half-made is kept: once the cluster is back, the next call connects."""
    factory = ClusterConnectionFactory(FAST)
    for _ in range(2):
        with pytest.raises(RedisConnectionError):
            factory.connect("redis+cluster://127.0.0.1:1")


def other_url() -> str:
    """The test cluster under a URL of its own, so these tests share no client with the app."""
    nodes = reversed(settings.REDIS_TOPOLOGY.nodes)
    return "redis+cluster://" + ",".join(f"{host}:{port}" for host, port in nodes)


@pytest.mark.redis
@needs_cluster
def test_the_factory_hands_out_one_cluster_client_per_url() -> None:
    url = other_url()
    cluster = ClusterConnectionFactory(FAST).connect(url)

    assert isinstance(cluster, RedisCluster)
    assert ClusterConnectionFactory(FAST).connect(url) is cluster  # per process, not factory
    assert cluster.ping()
    assert len(cluster.get_primaries()) == len(settings.REDIS_TOPOLOGY.nodes)
    pool = cluster.get_default_node().redis_connection.connection_pool
    assert pool.connection_kwargs["socket_timeout"] == 0.1  # the cache's fail-fast timeouts


@pytest.mark.redis
@needs_cluster
def test_get_many_returns_the_found_keys_decoded_across_slots() -> None:
    cache.set_many({"alpha": {"n": 1}, "beta": [1, 2], "gamma": "Zoë"})
    slots = {key_slot(cache.make_key(key).encode()) for key in ("alpha", "beta", "gamma")}
    assert len(slots) > 1  # a single MGET would fail with CROSSSLOT

    client: Any = cache.client  # type: ignore[attr-defined]  # django-redis's RedisCache
    found = client.get_many(["alpha", "beta", "gamma", "missing"], client=get_client())
    assert found == {"alpha": {"n": 1}, "beta": [1, 2], "gamma": "Zoë"}
    assert client.get_many([], client=get_client()) == {}


@pytest.mark.redis
@needs_cluster
def test_cache_reads_work_with_a_cluster_url_of_several_nodes() -> None:
    cache.set("alpha", {"n": 1})
    assert cache.get("alpha") == {"n": 1}
    assert cache.get_many(["alpha", "missing"]) == {"alpha": {"n": 1}}
