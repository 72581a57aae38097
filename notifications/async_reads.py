"""What the stream view reads of a user's stream on redis.asyncio, besides the hub."""

from __future__ import annotations

from redis import RedisError

from notifications import keys
from notifications.services import parse_id
from project.redis.aclient import get_async_client


async def missed_some(user_id: int, last_id: str) -> bool:
    """Were entries after ``last_id`` trimmed away (older than the retention)?"""
    try:
        info = await get_async_client().xinfo_stream(keys.stream(user_id))
    except RedisError as exc:
        if "no such key" in str(exc).lower():
            return False
        raise
    deleted = info.get("max-deleted-entry-id") or b"0-0"
    text = deleted.decode() if isinstance(deleted, bytes) else str(deleted)
    return parse_id(text) > parse_id(last_id)
