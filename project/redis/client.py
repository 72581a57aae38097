"""The one way to reach Redis.

:func:`get_client` returns the raw redis-py client on django-redis's connection pool, so the
cache, sessions and every feature that talks to Redis directly share one set of connections
with one set of timeouts (``CACHES["default"]``: short socket timeouts, no client retries).
Code that takes a client for tests accepts ``client: Redis | None = None`` and falls back to
this one; long-lived loops (pub/sub, streams) take a :func:`dedicated_client` instead.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django_redis import get_redis_connection
from redis import Redis
from redis.backoff import NoBackoff
from redis.retry import Retry
from redis.sentinel import Sentinel

from project.redis import config

CACHE_ALIAS = "default"


def get_client() -> Redis:
    """The raw redis-py client on the shared pool of the default cache."""
    client: Redis = get_redis_connection(CACHE_ALIAS)
    return client


def dedicated_client(*, socket_timeout: float) -> Redis:
    """A client with connections of its own, for a long-lived loop (pub/sub, streams),
    on whatever REDIS_URL names. No client retries: the loop reconnects itself."""
    topology = (
        settings.REDIS_TOPOLOGY
        if settings.REDIS_TOPOLOGY.url == settings.REDIS_URL
        else config.parse(settings.REDIS_URL)
    )
    options: dict[str, Any] = {
        "socket_timeout": socket_timeout,
        "socket_connect_timeout": settings.REDIS_CONNECT_TIMEOUT,
        "retry": Retry(NoBackoff(), 0),
    }
    if topology.kind == "cluster":
        from project.redis.cluster import cluster_client

        return cluster_client(  # type: ignore[return-value]  # RedisCluster speaks Redis's API
            topology.nodes,
            socket_timeout=socket_timeout,
            socket_connect_timeout=settings.REDIS_CONNECT_TIMEOUT,
        )
    if topology.kind == "sentinel":
        sentinel = Sentinel(list(topology.nodes), sentinel_kwargs=options, **options)
        primary: Redis = sentinel.master_for(topology.service, db=topology.db, **options)
        return primary
    return Redis.from_url(topology.url, **options)
