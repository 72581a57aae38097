"""One typed wrapper per Lua file in ``project/events/lua/``."""

from __future__ import annotations

from typing import Any

from redis import Redis
from redis.client import Pipeline

from project.events import keys
from project.redis.scripts import Arg, load


def append(client: Redis | Pipeline, topic: str, payload: str, *, bound: int) -> Any:
    """XADD within the bound, trimming only what every group has acknowledged; the reply is
    ``[entry id, entries lost]`` (on a pipeline, with the pipeline's)."""
    return load(__file__, "append")(
        client,
        keys=[keys.stream(topic), keys.handled(topic), keys.lost(topic)],
        args=[payload, bound],
    )


def claim(
    client: Redis, topic: str, *, field: str, mark: str, consumer: str, lease_ms: int
) -> tuple[str, str]:
    """``("handled", "")``, ``("busy", holder)`` or ``("claimed", handlers already done)``."""
    reply = load(__file__, "claim")(
        client,
        keys=[keys.progress(topic), keys.handled(topic)],
        args=[field, mark, consumer, lease_ms],
    )
    verdict, *rest = (part.decode() if isinstance(part, bytes) else part for part in reply)
    return verdict, rest[0] if rest else ""


def release(client: Redis, topic: str, *, field: str, consumer: str, done: list[str]) -> None:
    load(__file__, "release")(
        client, keys=[keys.progress(topic)], args=[field, consumer, ",".join(done)]
    )


def settle(
    client: Redis,
    topic: str,
    *,
    group: str,
    entry_id: str,
    field: str,
    mark: str,
    raw: bytes,
    consumer: str,
    reason: str = "",
    dead_letters_kept: int = 10_000,
) -> int:
    """XACK the entry and drop its progress; mark its event handled, or (with a reason)
    dead-letter it. Returns XACK's count (0: someone acknowledged it first)."""
    args: list[Arg] = [group, entry_id, field, mark, reason, raw, consumer, dead_letters_kept]
    names = [keys.stream(topic), keys.progress(topic), keys.handled(topic)]
    script = load(__file__, "settle")
    return int(script(client, keys=[*names, keys.dead_letter(topic)], args=args))


def forget_consumers(
    client: Redis, topic: str, *, group: str, idle_ms: int, only: str = ""
) -> list[str]:
    """Delete the group's consumers that hold nothing and were idle ``idle_ms``."""
    names = load(__file__, "forget_consumers")(
        client, keys=[keys.stream(topic)], args=[group, idle_ms, only]
    )
    return [name.decode() if isinstance(name, bytes) else name for name in names]
