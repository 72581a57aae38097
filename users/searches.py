"""Recent searches: a Redis list per user, newest first, no duplicates, at most 10."""

from __future__ import annotations

from typing import cast

from redis import Redis

from project.redis.client import get_client
from users import keys

LIMIT = 10
IDLE_TTL = 30 * 24 * 3600  # forgotten after 30 days without a search


def push(*, user_id: int, query: str, client: Redis | None = None) -> list[str]:
    """Record ``query`` (already validated) and return the list, in one atomic step."""
    key = keys.searches(user_id)
    pipe = (client or get_client()).pipeline(transaction=True)  # MULTI/EXEC: one key, one slot
    pipe.lrem(key, 0, query)
    pipe.lpush(key, query)
    pipe.ltrim(key, 0, LIMIT - 1)
    pipe.expire(key, IDLE_TTL)
    pipe.lrange(key, 0, LIMIT - 1)
    return [item.decode() for item in pipe.execute()[-1]]


def recent(user_id: int, *, client: Redis | None = None) -> list[str]:
    items = (client or get_client()).lrange(keys.searches(user_id), 0, LIMIT - 1)
    return [item.decode() for item in cast("list[bytes]", items)]  # no decode_responses
