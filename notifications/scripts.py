"""One typed wrapper per Lua file in ``notifications/lua/``."""

from __future__ import annotations

from redis import Redis

from notifications import keys
from project.redis.scripts import Arg, load


def notify(
    client: Redis, user_id: int, *, delivery: str, payload: str, keep: int, ttl: int, now_ms: int
) -> str | None:
    """Append ``payload`` to the user's stream unless ``delivery`` was appended before;
    the entry's id, or None for a re-delivery."""
    args: list[Arg] = [delivery, payload, keep, ttl, now_ms, keys.wake_channel(), user_id]
    stream_keys = [keys.stream(user_id), keys.delivered(user_id), keys.read_up_to(user_id)]
    entry_id = load(__file__, "notify")(client, keys=stream_keys, args=args)
    return entry_id.decode() if entry_id else None


def mark_read(client: Redis, user_id: int, *, up_to: str, ttl: int) -> str:
    """Move the read marker forward to ``up_to``; the marker as it stands."""
    marker = load(__file__, "mark_read")(client, keys=[keys.read_up_to(user_id)], args=[up_to, ttl])
    return str(marker.decode() if isinstance(marker, bytes) else marker)
