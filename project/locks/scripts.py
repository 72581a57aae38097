"""One typed wrapper per Lua file in ``project/locks/lua/``."""

from __future__ import annotations

from redis import Redis

from project.redis.scripts import load


def acquire(client: Redis, lock: str, fence: str, *, token: str, ttl_ms: int) -> int | None:
    """The next fencing number if the lock was free (now ours), else None."""
    number = load(__file__, "acquire")(client, keys=[lock, fence], args=[token, ttl_ms])
    return int(number) if number else None


def extend(client: Redis, lock: str, *, token: str, ttl_ms: int) -> bool:
    """True if the lock was still ours and now lives ``ttl_ms`` more."""
    return bool(load(__file__, "extend")(client, keys=[lock], args=[token, ttl_ms]))


def refence(client: Redis, lock: str, fence: str, *, token: str, floor: int) -> int | None:
    """A fencing number above ``floor`` if the lock is still ours, else None."""
    number = load(__file__, "refence")(client, keys=[lock, fence], args=[token, floor])
    return int(number) if number else None
