"""What the Redis server in use is set to do with the project's data, in plain words.

The project keeps some keys without a TTL and needs them kept: the cache's generation
counters, the records of adopted data (``epoch.py``), the leaderboard and tag indexes, the
write-back counts, the event stream. Losing one is never a stale read (each is rebuilt or
restarts safely) but costs work or counts; so the health endpoint and the admin say when
the server's settings allow it: a ``maxmemory`` with an ``allkeys-*`` policy evicts them,
and a server without persistence loses sessions and pending counts when it restarts.
"""

from __future__ import annotations

from typing import Any

from redis import Redis, ResponseError

EVICTS_ANY_KEY = {"allkeys-lru", "allkeys-lfu", "allkeys-random"}


def warnings(client: Redis) -> list[str]:
    """The server's settings that can cost the project data, each as one sentence."""
    try:
        info = _info(client)
    except ResponseError:  # INFO denied (an ACL): nothing to say
        return []
    found = []
    policy = str(info.get("maxmemory_policy", ""))
    if int(info.get("maxmemory", 0) or 0) > 0 and policy in EVICTS_ANY_KEY:
        found.append(
            f"maxmemory-policy {policy} can evict keys the project keeps without a TTL "
            "(cache generations, indexes, pending counts, the event stream); "
            "use volatile-lru or noeviction."
        )
    if not int(info.get("aof_enabled", 0) or 0) and not _saves(client):
        found.append(
            "Redis has no persistence (no AOF, no RDB saves): a restart signs everyone out "
            "and loses the counts not yet flushed; appendonly yes, appendfsync everysec."
        )
    return found


def _info(client: Redis) -> dict[str, Any]:
    """``INFO memory persistence``, one round trip (on a Cluster, the nodes' merged)."""
    reply = client.info("memory", "persistence")
    if reply and all(isinstance(value, dict) for value in reply.values()):  # a Cluster: per node
        merged: dict[str, Any] = {}
        for node in reply.values():
            merged.update(node)
        return merged
    return dict(reply)


def _saves(client: Redis) -> bool:
    """Does the server take RDB snapshots on its own (``save`` not empty)?"""
    try:
        reply = client.config_get("save")
    except ResponseError:  # CONFIG renamed or denied (managed Redis): no warning on a guess
        return True
    values = reply.values() if isinstance(reply, dict) else []
    return any(str(value).strip() for value in values)
