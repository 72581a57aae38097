"""Reading a cached entry from async code (an async view's ``request.auser()``).

A hit is read on redis.asyncio in one round trip, the generations with the entry, like
the sync read. Anything else goes to the sync read in a thread, which knows what to do
with it: a miss (the lease, the loader, the fill), the breaker open, recorded changes due
for replay, a possible loss of writes noticed (settled before any read), a Redis error
(counted, then BYPASS).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from asgiref.sync import sync_to_async
from django.conf import settings
from redis import RedisError

from caching import entries, generations
from caching.entries import Loader, Result
from caching.services import CacheService
from project.redis.aclient import get_async_client
from project.redis.epoch import losses


async def read(
    service: CacheService, key: str, loader: Loader, *, ttl: int, tags: Sequence[str] = ()
) -> Result:
    if settings.CACHE_ENABLED and service.recovery.steady() and not losses.pending():
        try:
            value = await _current(key, tags)
        except RedisError as exc:
            service.recovery.failed("read", exc)  # the sync read then bypasses at once
        else:
            if value is not None:
                service.metrics.incr("hit")
                return Result(value, "HIT")
    return await sync_to_async(service.get)(key, loader, ttl=ttl, tags=tags)


async def _current(key: str, tags: Sequence[str]) -> Any:
    """The entry's value if it holds one under the current generations, else None (a
    counter missing, or a loss noticed by a connection this read made: the sync read
    settles and makes them)."""
    seen = losses.noticed
    pipe = get_async_client().pipeline(transaction=False)
    for counter in generations.counters(key, tags):
        pipe.get(counter)
    pipe.hgetall(key)
    *counters, entry = await pipe.execute()
    if losses.noticed != seen or any(counter is None for counter in counters):
        return None
    generation, *tag_generations = (int(counter) for counter in counters)
    return entries.decode(entry, generation, tags, tag_generations)
