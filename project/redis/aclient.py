"""The one way to reach Redis from async code: redis.asyncio on the same server, with the
same short timeouts and no client retries as :func:`project.redis.client.get_client`, and
the same check for lost writes on every new connection (``epoch``'s ``aon_connect``).

An asyncio client's connections belong to the event loop that made them, so there is one
client per running loop (uvicorn runs one loop per worker process: one client, one pool).
"""

from __future__ import annotations

import asyncio
import weakref
from typing import Any

from django.conf import settings
from redis.asyncio import BlockingConnectionPool, Redis
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import NoBackoff

from project.redis import config, epoch

MAX_CONNECTIONS = 32  # per process (and event loop), whatever the number of streams
_clients: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, Redis] = weakref.WeakKeyDictionary()


def get_async_client() -> Redis:
    """This loop's client on the Redis ``REDIS_URL`` names (a Cluster client on a Cluster:
    it speaks the same commands for keys of one slot)."""
    loop = asyncio.get_running_loop()
    client = _clients.get(loop)
    if client is None:
        client = _clients[loop] = _make(config.parse(settings.REDIS_URL))
    return client


def _make(topology: config.Topology) -> Redis:
    options: dict[str, Any] = {
        "socket_timeout": settings.REDIS_SOCKET_TIMEOUT,
        "socket_connect_timeout": settings.REDIS_CONNECT_TIMEOUT,
        "retry": Retry(NoBackoff(), 0),
        "health_check_interval": 30,
    }
    if topology.kind == "cluster":
        check = {"redis_connect_func": epoch.aon_cluster_connect}
        cluster = RedisCluster(
            startup_nodes=[ClusterNode(host, port) for host, port in topology.nodes],
            max_connections=MAX_CONNECTIONS,  # per node; beyond, a ConnectionError
            **{**options, "retry": Retry(NoBackoff(), 1)},  # follow one MOVED
        )
        # The async RedisCluster takes no redis_connect_func of its own (the sync one
        # does); the nodes it discovers are made from these kwargs, and nothing has
        # connected yet (it initializes on its first command).
        cluster.connection_kwargs.update(check)
        for node in cluster.nodes_manager.startup_nodes.values():
            node.connection_kwargs.update(check)
        return cluster  # type: ignore[return-value]  # RedisCluster speaks Redis's API
    options["redis_connect_func"] = epoch.aon_connect
    if topology.kind == "sentinel":
        sentinel_options = {k: options[k] for k in ("socket_timeout", "socket_connect_timeout")}
        sentinel = Sentinel(list(topology.nodes), sentinel_kwargs=sentinel_options, **options)
        primary: Redis = sentinel.master_for(
            topology.service, db=topology.db, max_connections=MAX_CONNECTIONS, **options
        )
        return primary
    # A burst (thousands of streams reconnecting at once) waits its turn for a connection
    # instead of opening one each; one that waits too long is a ConnectionError (a 503).
    pool = BlockingConnectionPool.from_url(
        topology.url, max_connections=MAX_CONNECTIONS,
        timeout=4 * settings.REDIS_SOCKET_TIMEOUT, **options,
    )  # fmt: skip
    return Redis(connection_pool=pool)
