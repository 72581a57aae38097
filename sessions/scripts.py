"""One typed wrapper per Lua file in ``sessions/lua/``."""

from __future__ import annotations

from redis import Redis

from project.redis.scripts import Arg, load


def create(client: Redis, key: str, *, data: str, ttl: int, now_ms: int, user_id: str) -> bool:
    """Create the session only if the key is free (Django's ``CreateError`` contract)."""
    args: list[Arg] = [data, ttl, now_ms, user_id]
    return bool(load(__file__, "create")(client, keys=[key], args=args))


def update(client: Redis, key: str, *, data: str, ttl: int, user_id: str) -> bool:
    """Update the session only if it still exists: False if it was logged out meanwhile."""
    return bool(load(__file__, "update")(client, keys=[key], args=[data, ttl, user_id]))


def touch(client: Redis, key: str, *, now_ms: int) -> bool:
    """Record "last seen" on a live session; False (and nothing written) if it is gone."""
    return bool(load(__file__, "touch")(client, keys=[key], args=[now_ms]))
