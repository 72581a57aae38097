"""Gauges over time: what is stored (queue depth, outbox, lag, memory...) has no counter to
add up, so the dashboard samples it while it is open, one sample per period between all
viewers, into a capped stream that expires when nobody watches."""

from __future__ import annotations

from typing import Any, cast

from redis import Redis

from observability import keys
from project.web.observed import BUCKET_SECONDS, KEEP

NAMES = ("ops", "memory", "clients", "queued", "failed", "outbox", "lag", "writeback")


def take(client: Redis, figures: dict[str, float]) -> None:
    """Add ``figures`` as this period's sample, unless another viewer already did."""
    if not client.set(keys.gauges_taken(), "1", nx=True, ex=BUCKET_SECONDS):
        return
    pipe = client.pipeline(transaction=False)
    pipe.xadd(keys.gauges(), {k: str(figures.get(k, 0)) for k in NAMES}, maxlen=KEEP)
    pipe.expire(keys.gauges(), BUCKET_SECONDS * KEEP)
    pipe.execute()


def read(client: Redis, starts: list[int]) -> dict[str, list[float | None]]:
    """Each gauge's value in each bucket starting at ``starts`` (unix s), None where no
    sample was taken."""
    first = starts[0] * 1000
    found = cast("list[Any]", client.xrange(keys.gauges(), min=str(first), max="+"))
    by_bucket: dict[int, dict[str, float]] = {}
    for entry_id, fields in found:
        at = int(entry_id.decode().split("-")[0]) // 1000
        bucket = at - at % BUCKET_SECONDS
        by_bucket[bucket] = {k.decode(): float(v) for k, v in fields.items()}
    return {
        name: [by_bucket[s][name] if s in by_bucket else None for s in starts] for name in NAMES
    }
