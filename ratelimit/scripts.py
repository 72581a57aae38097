"""The typed wrapper of ``lua/sliding_window.lua``."""

from __future__ import annotations

from dataclasses import dataclass

from redis import Redis

from project.redis.scripts import load


@dataclass(frozen=True)
class Verdict:
    admitted: bool
    remaining: int
    reset: float  # seconds until the oldest recorded request leaves the window


def sliding_window(
    client: Redis, key: str, *, limit: int, window: int, member: str, record: bool = True
) -> Verdict:
    """One round trip: admit and record, or refuse without recording."""
    admitted, remaining, reset_us = load(__file__, "sliding_window")(
        client, keys=[key], args=[limit, window * 1_000_000, member, int(record)]
    )
    return Verdict(bool(admitted), int(remaining), max(int(reset_us), 0) / 1_000_000)
