"""The one place that knows how to reach Redis (DESIGN §6, §7).

The raw client shares django-redis's connection pool, so the cache, sessions and every
feature that talks to Redis directly use one set of connections with one set of timeouts
(``CACHES["default"]`` in settings: short socket timeouts, no client-side retries).
"""

from __future__ import annotations

from functools import cache
from pathlib import Path

from django.conf import settings
from django_redis import get_redis_connection
from redis import Redis
from redis.backoff import NoBackoff
from redis.commands.core import Script
from redis.retry import Retry
from redis.sentinel import Sentinel

from project import redis_config

CACHE_ALIAS = "default"


def get_client() -> Redis:
    """Return the raw redis-py client on the shared pool of the default cache."""
    return get_redis_connection(CACHE_ALIAS)


def dedicated_client(*, socket_timeout: float) -> Redis:
    """A client with connections of its own, for a long-lived loop (pub/sub, streams),
    on whatever REDIS_URL names. No client retries: the loop reconnects itself."""

    topology = (
        settings.REDIS_TOPOLOGY if settings.REDIS_TOPOLOGY.url == settings.REDIS_URL else None
    )
    topology = topology or redis_config.parse(settings.REDIS_URL)
    options = {
        "socket_timeout": socket_timeout,
        "socket_connect_timeout": settings.REDIS_CONNECT_TIMEOUT,
        "retry": Retry(NoBackoff(), 0),
    }
    if topology.kind == "cluster":
        from project.redis_cluster import cluster_client

        return cluster_client(  # type: ignore[return-value]
            topology.nodes,
            socket_timeout=socket_timeout,
            socket_connect_timeout=settings.REDIS_CONNECT_TIMEOUT,
        )
    if topology.kind == "sentinel":
        sentinel = Sentinel(list(topology.nodes), sentinel_kwargs=options, **options)
        return sentinel.master_for(topology.service, db=topology.db, **options)
    return Redis.from_url(topology.url, **options)


def make_key(app: str, entity: str, *rest: str | int) -> str:
    """Build a key as ``{prefix}:{app}:{entity}[:{id}][:{facet}]`` (DESIGN §6).

    Each app wraps this in its own key builder; nothing builds keys inline. The prefix is
    read at call time so tests and tenants can change it.
    """
    parts = [settings.REDIS_KEY_PREFIX, app, entity, *(str(part) for part in rest)]
    if any(part == "" for part in parts):
        raise ValueError(f"empty key part in {parts!r}")
    return ":".join(parts)


@cache
def lua_script(path: Path) -> Script:
    """The script in the ``.lua`` file at ``path``, run by EVALSHA.

    redis-py loads it again and retries once on NOSCRIPT (a restarted or failed-over
    server). Read once per process; pass ``client=`` when calling.
    """
    # Bytes: the SHA is computed here without needing a client's encoder.
    return Script(None, path.read_bytes())  # type: ignore[arg-type]
