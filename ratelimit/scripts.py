"""The typed wrapper of ``lua/sliding_window.lua``."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from redis import Redis

from project.redis import lua_script

SLIDING_WINDOW = Path(__file__).resolve().parent / "lua" / "sliding_window.lua"


@dataclass(frozen=True)
class Verdict:
    admitted: bool
    remaining: int
    reset: float  # seconds until the oldest recorded request leaves the window


def sliding_window(
    client: Redis, key: str, *, limit: int, window: int, member: str, record: bool = True
) -> Verdict:
    """One round trip: admit and record, or refuse without recording."""
    admitted, remaining, reset_us = lua_script(SLIDING_WINDOW)(
        keys=[key], args=[limit, window * 1_000_000, member, int(record)], client=client
    )
    return Verdict(bool(admitted), int(remaining), max(int(reset_us), 0) / 1_000_000)
