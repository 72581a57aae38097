"""The generation counters an entry depends on: its group's (``keys.GROUPS`` of them make
"everything"), then each of its tags'. They ride in the entry's own read pipeline.

A counter is permanent, but may still go missing (eviction under an ``allkeys-*`` policy,
a ``FLUSHDB``, a restore). Read as 0 it would walk through old values again and make old
entries current; so a missing one is made at once, at the server's clock in µs
(``generation.lua``), above any value it had, and nothing read with it counts.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any, TypeVar

from redis import Redis, RedisError

from caching import changes, keys, scripts
from caching.metrics import Metrics
from project.redis.epoch import losses

T = TypeVar("T")
ROUNDS = 8  # each distinct loss is noticed once per process: a few nodes at most


def counters(entry_key: str, tags: Sequence[str]) -> list[str]:
    return [keys.group_generation(entry_key), *(keys.tag_generation(tag) for tag in tags)]


def values(client: Redis, names: Sequence[str], replies: list[Any]) -> tuple[list[int], int]:
    """The counters' values from their ``GET`` replies, and how many had to be made (one
    more round trip, rarely)."""
    made = 0
    for i, reply in enumerate(replies):
        if reply is None:
            replies[i] = scripts.generation(client, names[i], bump=False)
            made += 1
    return [int(reply) for reply in replies], made


def settled(client: Redis, read: Callable[[], T], metrics: Metrics) -> T:
    """``read()``, known to have read no data older than a loss this process noticed: a
    loss noticed before is settled first; one noticed during the read (its connection
    was new) is settled, and the read runs again."""
    for _ in range(ROUNDS):
        if losses.pending() and losses.settle(
            client, lambda: changes.apply(client, [changes.EVERYTHING])
        ):
            metrics.incr("data_loss_settled")
        seen = losses.noticed
        result = read()
        if losses.noticed == seen:
            return result
    raise RedisError(f"Redis noticed {ROUNDS} losses of data in a row")
