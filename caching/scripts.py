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


def invalidate(
    client: Redis | Pipeline, entry: str, lease: str, *, ttl_ms: int, version: int
) -> Any:
    """A tombstone at ``version``: 1 invalidated, 0 a newer value was kept."""
    return load(__file__, "invalidate")(client, keys=[entry, lease], args=[ttl_ms, version])


def _store(
    client: Redis | Pipeline, entry: str, lease: str, token: str, ttl_ms: int, version: int,
    fields: Fields,
) -> Any:  # fmt: skip
    args = [token, ttl_ms, version, *(item for pair in fields.items() for item in pair)]
    return load(__file__, "store")(client, keys=[entry, lease], args=args)


def generation(client: Redis | Pipeline, key: str, *, bump: bool) -> Any:
    """Bump a generation counter (``bump``), or make it if it is missing; its new value.
    A missing counter restarts at the server's clock in µs, never at an old value."""
    return load(__file__, "generation")(client, keys=[key], args=["bump" if bump else "init"])
