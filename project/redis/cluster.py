"""The django-redis pieces for Redis Cluster, which django-redis lacks (its #208, #606, #710).

``ClusterConnectionFactory`` hands django-redis a redis-py ``RedisCluster`` (one per
process and URL) with the same fail-fast settings as the standalone pool; ``ClusterClient``
changes the one cache method whose command cannot span slots. What works:

- single-key cache calls (get, set, add, incr, expire, ttl, ...): RedisCluster routes them;
- ``get_many``: ``MGET`` per slot (``mget_nonatomic``), not one atomic ``MGET``;
- ``set_many``, ``delete_many``: pipelines and ``DEL`` that redis-py splits per slot;
- ``keys``/``iter_keys``/``delete_pattern``/``clear``: ``SCAN`` and ``FLUSHDB`` on every
  primary (redis-py's cluster defaults), never one node by accident.

Limits: no atomicity across slots (the project's own scripts and transactions each stay
in one slot, by hash tags); database 0 only; ``get_many`` is as atomic as per-slot reads.
"""

from __future__ import annotations

import threading
from collections.abc import Collection, Sequence
from typing import Any

from django_redis.client import DefaultClient
from django_redis.pool import ConnectionFactory
from redis.backoff import NoBackoff
from redis.cluster import ClusterNode, RedisCluster
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisClusterException
from redis.retry import Retry

from project.redis import epoch
from project.redis.config import parse


def cluster_client(nodes: Sequence[tuple[str, int]], **options: Any) -> RedisCluster:
    """A RedisCluster that fails like any Redis: redis-py raises RedisClusterException,
    which is no RedisError, when no startup node answers; here it is a ConnectionError,
    so every feature's failure policy (BYPASS, 503, fail open) applies."""
    try:
        return RedisCluster(
            startup_nodes=[ClusterNode(host, port) for host, port in nodes],
            # Redirections (MOVED/ASK) are followed; connection errors are not retried
            # with backoff, so a request never stalls for seconds.
            retry=Retry(NoBackoff(), 1),
            redis_connect_func=epoch.on_cluster_connect,  # notices a restart or failover
            **options,
        )
    except RedisClusterException as exc:
        raise RedisConnectionError(f"Redis Cluster unreachable: {exc}") from exc


class ClusterConnectionFactory(ConnectionFactory):
    _clusters: dict[str, RedisCluster] = {}
    _lock = threading.Lock()

    def connect(self, url: str) -> RedisCluster:  # type: ignore[override]
        with self._lock:
            if url not in self._clusters:
                topology = parse(url)
                self._clusters[url] = cluster_client(
                    topology.nodes,
                    socket_timeout=self.options.get("SOCKET_TIMEOUT"),
                    socket_connect_timeout=self.options.get("SOCKET_CONNECT_TIMEOUT"),
                )
            return self._clusters[url]

    def disconnect(self, connection: Any) -> None:
        connection.close()


class ClusterClient(DefaultClient):
    def get_many(
        self, keys: Collection[str], version: int | None = None, client: Any = None
    ) -> dict:
        if client is None:
            client = self.get_client(write=False)
        if not keys:
            return {}
        by_key = {self.make_key(key, version=version): key for key in keys}
        values = client.mget_nonatomic(list(by_key))
        return {
            by_key[key]: self.decode(value)
            for key, value in zip(by_key, values, strict=True)
            if value is not None
        }
