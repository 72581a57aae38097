"""Notifying a user: durably after commit, into the user's stream, read back as history.

A notification is written to the outbox (``jobs``) in the transaction that caused it and,
once that commits, appended to the user's Redis stream by the committing process itself
(no worker on this path; the stream's readers are woken at once). If Redis refuses it, or
the process dies first, the relay appends it later: at least once, and a re-delivery is
recognised by its outbox id and not appended twice (``lua/notify.lua``).

Retention: the newest ``NOTIFICATIONS_KEEP`` (1,000) per user, for ``NOTIFICATIONS_TTL``
(30 days) after the newest; older ones are gone from the history and from any replay.
"""

from __future__ import annotations

import json
import re
import time
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

from django.conf import settings

from jobs import relay
from jobs.services import deliver_on_commit
from notifications import keys, scripts
from project.redis.client import get_client

SINK = "notifications"
# <ms>-<seq>, small enough for the Lua scripts' numbers (doubles) to stay exact.
ENTRY_ID = re.compile(r"^\d{1,15}-\d{1,10}\Z")


def keep() -> int:
    return int(getattr(settings, "NOTIFICATIONS_KEEP", 1000))


def ttl() -> int:
    return int(getattr(settings, "NOTIFICATIONS_TTL", 30 * 24 * 3600))


def notify(user_id: int, type: str, *, using: str | None = None, **data: Any) -> None:
    """Notify ``user_id`` of ``type`` (``points.awarded``…) with ``data`` once the current
    transaction commits (at once outside one). Never raises for Redis."""
    at = datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")
    deliver_on_commit(SINK, {"user": user_id, "notification": {"type": type, "at": at, **data}},
                      using=using)  # fmt: skip


def deliver(delivery: str, message: dict[str, Any]) -> None:
    """The outbox's sink: append the notification (raises RedisError: it stays queued)."""
    scripts.notify(
        get_client(),
        int(message["user"]),
        delivery=delivery,
        payload=json.dumps(message["notification"], separators=(",", ":")),
        keep=keep(),
        ttl=ttl(),
        now_ms=time.time_ns() // 1_000_000,
    )


relay.sinks[SINK] = deliver


@dataclass(frozen=True)
class Notification:
    id: str
    data: dict[str, Any]
    read: bool


def history(user_id: int, *, before: str | None = None, limit: int = 20) -> list[Notification]:
    """The user's notifications, newest first: ``limit`` of them older than ``before``."""
    client = get_client()
    pipe = client.pipeline(transaction=False)
    pipe.xrevrange(keys.stream(user_id), max=f"({before}" if before else "+", count=limit)
    pipe.get(keys.read_up_to(user_id))
    found, marker = cast("tuple[Any, bytes | None]", pipe.execute())
    read_up_to = parse_id(marker.decode()) if marker else (0, 0)
    return [
        Notification(id=entry_id, data=json.loads(data), read=parse_id(entry_id) <= read_up_to)
        for entry_id, data in entries(found)
    ]


def mark_read(user_id: int, *, up_to: str | None = None) -> str | None:
    """Mark the user's notifications read up to ``up_to`` (all, if None); the marker."""
    client = get_client()
    if up_to is None:
        newest = client.xrevrange(keys.stream(user_id), count=1)
        if not newest:
            return None
        up_to = cast(bytes, newest[0][0]).decode()
    return scripts.mark_read(client, user_id, up_to=up_to, ttl=ttl())


def entries(found: Any) -> list[tuple[str, str]]:
    """(id, JSON) of each entry of an XRANGE or XREAD reply (bytes: no decode_responses)."""
    return [(entry_id.decode(), fields[b"d"].decode()) for entry_id, fields in found]


def newest_id(found: Any) -> str:
    """The id in an ``XREVRANGE … COUNT 1`` reply, "0-0" for an empty stream."""
    return str(found[0][0].decode()) if found else "0-0"


def parse_id(entry_id: str) -> tuple[int, int]:
    ms, _, seq = entry_id.partition("-")
    return int(ms), int(seq)
