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


def figures(client: Redis) -> list[dict[str, Any]]:
    """What the admin's Redis dashboard shows of each server (each primary, on a Cluster):
    ``INFO`` in plain numbers, the policy, and the slow log's last entries."""
    reply = client.info()
    nodes = reply if reply and all(isinstance(v, dict) for v in reply.values()) else {"": reply}
    found = []
    for name, info in sorted(nodes.items()):
        hits, misses = int(info.get("keyspace_hits", 0)), int(info.get("keyspace_misses", 0))
        found.append(
            {
                "node": name or "the server",
                "version": info.get("redis_version", "?"),
                "uptime_s": int(info.get("uptime_in_seconds", 0)),
                "used_memory": int(info.get("used_memory", 0)),
                "used_memory_peak": int(info.get("used_memory_peak", 0)),
                "fragmentation": float(info.get("mem_fragmentation_ratio", 0) or 0),
                "maxmemory": int(info.get("maxmemory", 0) or 0),
                "maxmemory_policy": str(info.get("maxmemory_policy", "")),
                "clients": int(info.get("connected_clients", 0)),
                "ops_per_sec": int(info.get("instantaneous_ops_per_sec", 0)),
                "evicted_keys": int(info.get("evicted_keys", 0)),
                "expired_keys": int(info.get("expired_keys", 0)),
                "keyspace_hits": hits,
                "keyspace_misses": misses,
                "hit_ratio": hits / (hits + misses) if hits + misses else None,
                "keys": _keys(info),
            }
        )
    return found


def _keys(info: dict[str, Any]) -> int:
    """The keys of every database ``INFO keyspace`` lists (``db0: {keys: 12, ...}``)."""
    return sum(
        int(db.get("keys", 0))
        for name, db in info.items()
        if name.startswith("db") and isinstance(db, dict)
    )


def slow_log(client: Redis, count: int = 10) -> list[dict[str, Any]]:
    """The slow log's last ``count`` entries (all nodes' on a Cluster): when, how long, what."""
    try:
        reply = client.slowlog_get(count)
    except ResponseError:  # denied (an ACL, a managed Redis)
        return []
    entries = reply if isinstance(reply, list) else [e for v in reply.values() for e in v]
    found: list[dict[str, Any]] = []
    for entry in entries:
        command = entry.get("command", b"")
        text = command.decode(errors="replace") if isinstance(command, bytes) else str(command)
        found.append(
            {"at": int(entry["start_time"]), "micros": int(entry["duration"]), "command": text}
        )
    return sorted(found, key=lambda e: e["at"], reverse=True)[:count]
