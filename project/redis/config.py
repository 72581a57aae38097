"""What ``REDIS_URL`` names, and the cache settings that reach it (settings call these).

- ``redis://host:6379/0``, ``rediss://…``, ``unix:///path/redis.sock?db=0``: one server.
- ``redis+sentinel://h1:26379,h2:26379/mymaster/0``: the primary of service ``mymaster``,
  found through the sentinels (django-redis's Sentinel client); failovers are followed.
- ``redis+cluster://h1:7000,h2:7001``: a Redis Cluster through redis-py's ``RedisCluster``
  (``project/redis/cluster.py``: the small django-redis client django-redis lacks).

Anything else is an ``ImproperlyConfigured`` at start-up, not a hang or a 500 later.
Nothing here reads ``django.conf.settings``: the settings module calls it while loading.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from redis.backoff import NoBackoff
from redis.retry import Retry

from project.redis import epoch

STANDALONE_SCHEMES = {"redis", "rediss", "unix"}


@dataclass(frozen=True)
class Topology:
    kind: str  # "standalone" | "sentinel" | "cluster"
    url: str
    nodes: tuple[tuple[str, int], ...] = ()
    service: str = ""
    db: int = 0


def parse(url: str) -> Topology:
    try:
        parts = urlsplit(url)
        scheme = parts.scheme
        if scheme in STANDALONE_SCHEMES:
            if scheme != "unix" and not parts.hostname:
                raise ValueError("no host")
            if scheme == "unix" and not parts.path:
                raise ValueError("no socket path")
            return Topology("standalone", url)
        if scheme in {"redis+sentinel", "redis+cluster"}:
            nodes = tuple(_node(item) for item in parts.netloc.split(",") if item)
            if not nodes:
                raise ValueError("no hosts")
            if scheme == "redis+cluster":
                if parts.path.strip("/") not in {"", "0"}:
                    raise ValueError("a cluster has only database 0")
                return Topology("cluster", url, nodes)
            service, _, db = parts.path.strip("/").partition("/")
            if not service:
                raise ValueError("no service name (redis+sentinel://host:26379/mymaster/0)")
            return Topology("sentinel", url, nodes, service, int(db or 0))
        raise ValueError(f"unknown scheme {scheme!r}")
    except ValueError as exc:
        raise ImproperlyConfigured(
            f"REDIS_URL={url!r} is not usable: {exc}. Use redis://host:6379/0, unix:///path, "
            "redis+sentinel://host:26379,host2:26379/service/0 or "
            "redis+cluster://host:7000,host2:7001"
        ) from None


def _node(item: str) -> tuple[str, int]:
    host, _, port = item.rpartition(":")
    if not host or not port.isdigit():
        raise ValueError(f"{item!r} is not host:port")
    return host.strip("[]"), int(port)


def cache_location_and_options(
    topology: Topology, *, sentinel_timeout: float = 0.5
) -> tuple[str | list[str], dict[str, Any]]:
    """The django-redis LOCATION and the OPTIONS that differ per topology."""
    if topology.kind == "sentinel":
        return f"redis://{topology.service}/{topology.db}", {
            "CLIENT_CLASS": "django_redis.client.SentinelClient",
            "CONNECTION_FACTORY": "django_redis.pool.SentinelConnectionFactory",
            "SENTINELS": list(topology.nodes),
            # Talking to the sentinels fails fast too (redis-py would retry with backoff
            # for some 20 s when none answers).
            "SENTINEL_KWARGS": {
                "socket_timeout": sentinel_timeout,
                "socket_connect_timeout": sentinel_timeout,
                "retry": Retry(NoBackoff(), 0),
            },
        }
    if topology.kind == "cluster":
        # A list of one: django-redis splits a LOCATION string on commas into a primary and
        # replicas, and would read from "h2:7001" as if it were a server URL of its own.
        return [topology.url], {
            "CLIENT_CLASS": "project.redis.cluster.ClusterClient",
            "CONNECTION_FACTORY": "project.redis.cluster.ClusterConnectionFactory",
        }
    return topology.url, {"CLIENT_CLASS": "django_redis.client.DefaultClient"}


def cache_settings(
    topology: Topology,
    *,
    key_prefix: str,
    socket_timeout: float,
    connect_timeout: float,
) -> dict[str, Any]:
    """``CACHES["default"]`` for ``topology``: JSON values, short timeouts, no retries.

    On a standalone Redis the connections count their round trips and errors
    (``project.redis.timing``: ``/metrics``, ``Server-Timing``); the Sentinel and Cluster
    clients make their own connections.
    """
    location, topology_options = cache_location_and_options(
        topology, sentinel_timeout=socket_timeout
    )
    pool: dict[str, Any] = {
        # redis-py would otherwise retry with backoff and stall the request.
        "retry": Retry(NoBackoff(), 0),
        "health_check_interval": 30,
    }
    if topology.kind != "cluster":  # the Cluster client installs its own (cluster.py)
        pool["redis_connect_func"] = epoch.on_connect  # notices a restart or a failover
    if topology.kind == "standalone":
        from project.redis.timing import connection_class_for

        pool["connection_class"] = connection_class_for(topology.url)
    return {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": location,
        # Keys read as {prefix}:cache:{version}:{key}.
        "KEY_PREFIX": f"{key_prefix}:cache",
        "OPTIONS": {
            **topology_options,
            # JSON, never pickle: unpickling what a shared Redis hands back is code execution.
            "SERIALIZER": "django_redis.serializers.json.JSONSerializer",
            "SOCKET_CONNECT_TIMEOUT": connect_timeout,
            "SOCKET_TIMEOUT": socket_timeout,
            "CONNECTION_POOL_KWARGS": pool,
            # Errors surface: each feature applies its own failure policy
            # (docs/architecture.md, Failure policy).
            "IGNORE_EXCEPTIONS": False,
        },
    }


def queue_settings(
    topology: Topology, *, socket_timeout: float, connect_timeout: float, job_timeout: int
) -> dict[str, Any]:
    """A django-rq ``RQ_QUEUES`` entry for ``topology`` (standalone or Sentinel).

    Enqueueing from a request fails fast like every other Redis call (RQ's worker raises
    its own connection's timeout above its blocking wait). RQ cannot run on a Cluster: its
    keys span slots.
    """
    if topology.kind == "cluster":
        raise ImproperlyConfigured(
            "RQ cannot run on a Redis Cluster: set TASKS_REDIS_URL to a standalone or "
            "Sentinel Redis for the task queue"
        )
    common: dict[str, Any] = {"DEFAULT_TIMEOUT": job_timeout}
    if topology.kind == "sentinel":
        return {
            **common,
            "SENTINELS": list(topology.nodes),
            "MASTER_NAME": topology.service,
            "DB": topology.db,
            "SOCKET_TIMEOUT": socket_timeout,
            "CONNECTION_KWARGS": {"socket_connect_timeout": connect_timeout},
            "SENTINEL_KWARGS": {
                "socket_timeout": socket_timeout,
                "socket_connect_timeout": connect_timeout,
            },
        }
    # django-rq reads timeouts from a URL's query only (and urlunsplit would turn
    # unix:///path into unix:/path).
    base, _, query = topology.url.partition("?")
    timeouts = f"socket_timeout={socket_timeout}&socket_connect_timeout={connect_timeout}"
    return {**common, "URL": f"{base}?{query + '&' if query else ''}{timeouts}"}
