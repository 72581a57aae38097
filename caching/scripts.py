"""One typed wrapper per Lua file in ``caching/lua/``."""

from __future__ import annotations

from typing import Any

from redis import Redis
from redis.client import Pipeline

from project.redis.scripts import load

Fields = dict[str, str | int]


def fill(
    client: Redis, entry: str, lease: str, *, token: str, ttl_ms: int, version: int,
    fields: Fields,
) -> int:  # fmt: skip
    """After a miss: 1 stored, 0 the lease was voided by a write, -1 a newer version is cached."""
    return int(_store(client, entry, lease, token, ttl_ms, version, fields))


def write(
    client: Redis | Pipeline, entry: str, lease: str, *, ttl_ms: int, version: int,
    fields: Fields,
) -> Any:  # fmt: skip
    """Write-through: 1 stored, -1 a newer version (or a deletion) is cached. On a
    pipeline it is queued, and the reply comes with the pipeline's."""
    return _store(client, entry, lease, "", ttl_ms, version, fields)


def invalidate(client: Redis, entry: str, lease: str, *, ttl_ms: int, version: int) -> int:
    """1 invalidated, 0 a newer value was kept."""
    return int(load(__file__, "invalidate")(client, keys=[entry, lease], args=[ttl_ms, version]))


def _store(
    client: Redis | Pipeline, entry: str, lease: str, token: str, ttl_ms: int, version: int,
    fields: Fields,
) -> Any:  # fmt: skip
    args = [token, ttl_ms, version, *(item for pair in fields.items() for item in pair)]
    return load(__file__, "store")(client, keys=[entry, lease], args=args)
