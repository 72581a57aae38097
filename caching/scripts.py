"""One typed wrapper per Lua file in ``caching/lua/``."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from redis import Redis
from redis.commands.core import Script

from project.redis import lua_script

LUA_DIR = Path(__file__).resolve().parent / "lua"

Fields = dict[str, str | int]


def _script(name: str) -> Script:
    return lua_script(LUA_DIR / f"{name}.lua")


def fill(
    client: Redis, entry: str, lease: str, *, token: str, ttl_ms: int, version: int,
    fields: Fields,
) -> int:  # fmt: skip
    """1 stored, 0 the lease was voided by an invalidation, -1 a newer version is cached."""
    args = [token, ttl_ms, version, *_flatten(fields)]
    return int(_script("fill")(keys=[entry, lease], args=args, client=client))


def write(
    client: Redis, entry: str, lease: str, *, ttl_ms: int, version: int, fields: Fields
) -> Any:
    """1 stored, -1 a newer version (or a deletion) is cached. On a pipeline: queued, the
    reply comes with the pipeline's."""
    args = [ttl_ms, version, *_flatten(fields)]
    return _script("write")(keys=[entry, lease], args=args, client=client)


def invalidate(client: Redis, entry: str, lease: str, *, ttl_ms: int, version: int) -> int:
    """1 invalidated, 0 a newer value was kept."""
    return int(_script("invalidate")(keys=[entry, lease], args=[ttl_ms, version], client=client))


def _flatten(fields: Fields) -> list[str | int]:
    return [item for pair in fields.items() for item in pair]


def release(client: Redis, lease: str, *, token: str) -> int:
    """1 released, 0 the lease was no longer ours."""
    return int(_script("release")(keys=[lease], args=[token], client=client))
