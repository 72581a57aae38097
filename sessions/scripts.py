"""One typed wrapper per Lua file in ``sessions/lua/``."""

from __future__ import annotations

from typing import Any

import redis.asyncio
from redis import Redis
from redis.client import Pipeline

from project.redis.scripts import Arg, load


def create(client: Redis, key: str, *, data: str, ttl: int, now_ms: int, user_id: str) -> bool:
    """Create the session only if the key is free (Django's ``CreateError`` contract)."""
    args: list[Arg] = [data, ttl, now_ms, user_id]
    return bool(load(__file__, "create")(client, keys=[key], args=args))


def update(client: Redis, key: str, *, data: str, ttl: int, user_id: str) -> bool:
    """Update the session only if it still exists: False if it was logged out meanwhile."""
    return bool(load(__file__, "update")(client, keys=[key], args=[data, ttl, user_id]))


async def aupdate(
    client: redis.asyncio.Redis, key: str, *, data: str, ttl: int, user_id: str
) -> bool:
    """``update`` on redis.asyncio."""
    return bool(await load(__file__, "update").acall(client, keys=[key], args=[data, ttl, user_id]))


def touch(client: Redis, key: str, *, now_ms: int) -> bool:
    """Record "last seen" on a live session; False (and nothing written) if it is gone."""
    return bool(load(__file__, "touch")(client, keys=[key], args=[now_ms]))


async def atouch(client: redis.asyncio.Redis, key: str, *, now_ms: int) -> bool:
    """``touch`` on redis.asyncio."""
    return bool(await load(__file__, "touch").acall(client, keys=[key], args=[now_ms]))


def _keep_indexed_args(field: str, entry: str, ttl: int, replace: bool) -> list[Arg]:
    return [field, entry, ttl * 1000, "1" if replace else "0"]


def keep_indexed(
    client: Redis | Pipeline, index: str, *, field: str, entry: str, ttl: int, replace: bool
) -> Any:
    """List a session in its owner's index (if missing, or always with ``replace``) and
    lengthen the index's TTL to at least ``ttl`` seconds; on a pipeline, queued."""
    args = _keep_indexed_args(field, entry, ttl, replace)
    return load(__file__, "keep_indexed")(client, keys=[index], args=args)


async def akeep_indexed(
    client: redis.asyncio.Redis, index: str, *, field: str, entry: str, ttl: int, replace: bool
) -> None:
    """``keep_indexed`` on redis.asyncio."""
    args = _keep_indexed_args(field, entry, ttl, replace)
    await load(__file__, "keep_indexed").acall(client, keys=[index], args=args)
