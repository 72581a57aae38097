"""What the streams hold, for the admin's Redis dashboard and ``/metrics``."""

from __future__ import annotations

from dataclasses import dataclass, field

from redis import Redis

from project.events import keys
from project.redis.client import get_client
from project.redis.keys import make_key


@dataclass(frozen=True)
class Group:
    name: str
    lag: int  # entries not delivered to the group yet (Redis 7: XINFO GROUPS "lag")
    pending: int  # delivered, not acknowledged


@dataclass(frozen=True)
class StreamFigures:
    topic: str
    length: int
    dead_letters: int
    groups: list[Group] = field(default_factory=list)


def streams(*, client: Redis | None = None) -> list[StreamFigures]:
    """Every topic's stream: its length, dead letters and consumer groups. Topics are found
    with ``SCAN`` (a handful of keys), never ``KEYS``."""
    client = client or get_client()
    pattern = make_key(keys.APP, "*", "stream")
    found = []
    for raw in sorted(client.scan_iter(match=pattern, count=500)):
        name = raw.decode() if isinstance(raw, bytes) else raw
        topic = name.split("{", 1)[-1].split("}", 1)[0]
        pipe = client.pipeline(transaction=False)
        pipe.xlen(keys.stream(topic))
        pipe.xlen(keys.dead_letter(topic))
        pipe.xinfo_groups(keys.stream(topic))
        length, dead, groups = pipe.execute()
        members = [
            Group(_text(g["name"]), int(g.get("lag") or 0), int(g["pending"])) for g in groups
        ]
        found.append(StreamFigures(topic, int(length), int(dead), members))
    return found


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
