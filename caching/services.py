"""The cache service: read-through with leases, write-through, invalidation, tags.

An entry is a Redis hash: ``d`` the JSON value (absent in a tombstone), ``v`` the version
of the data, ``g`` the global generation and ``t:<tag>`` each tag's generation when it
was written. A read fetches the generations and the entry in one pipelined round trip;
the entry counts only if its generations are still current.

- **Leases** (stale-set protection): a miss takes a lease token before reading the
  database; an invalidation deletes the lease; ``fill.lua`` stores the value only if the
  token is still current. A reader that loaded old data around a writer's commit is thus
  refused, instead of caching the old row until the TTL.
- **Single flight**: a miss that finds the lease taken waits (polling, up to
  ``wait_max``) for the holder's fill, and reads through to the database if it does not
  come. One loader call per cold key.
- **Versions**: fills and write-throughs carry the row's version; an older version never
  replaces a newer one, and invalidations leave a tombstone holding the version, so
  reordered writes cannot bring back an old value. Deletions hold ``DELETED``.
- **Tags** are generation counters: invalidating a tag is one ``INCR``; entries written
  under the old generation stop counting. No sets of members, no ``KEYS``.
- **Failure policy** (DESIGN §7): a Redis error opens the circuit breaker and the call
  reads through (``BYPASS``). An invalidation that fails is not forgotten: the process
  bumps the global generation as soon as Redis answers again, before using the cache,
  so nothing written before the outage is served after it.
"""

from __future__ import annotations

import json
import logging
import secrets
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from redis import Redis, RedisError
from redis.cluster import RedisCluster

from caching import keys, scripts
from caching.breaker import CircuitBreaker
from caching.metrics import Metrics
from project.redis import get_client

logger = logging.getLogger("caching")

Status = Literal["HIT", "MISS", "BYPASS"]
DELETED = 2**53  # the version of a deletion tombstone: above any real version


@dataclass(frozen=True)
class Versioned:
    """What a loader returns when its data has a version (e.g. a VersionedModel row)."""

    data: Any
    version: int


@dataclass(frozen=True)
class Result:
    value: Any  # None: the loader found nothing
    status: Status


Loader = Callable[[], Any]


def _unwrap(loaded: Any) -> tuple[Any, int]:
    if isinstance(loaded, Versioned):
        return loaded.data, loaded.version
    return loaded, 0


class CacheService:
    def __init__(
        self,
        *,
        client: Callable[[], Redis] = get_client,
        breaker: CircuitBreaker | None = None,
        metrics: Metrics | None = None,
        lease_ms: int = 3000,
        wait_max: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self.breaker = breaker or CircuitBreaker()
        self.metrics = metrics or Metrics()
        self.lease_ms = lease_ms
        self.wait_max = wait_max
        self._sleep = sleep
        self._generation_bump_pending = False

    # --- Reads ------------------------------------------------------------------------

    def get(self, key: str, loader: Loader, *, ttl: int, tags: Sequence[str] = ()) -> Result:
        """Return the cached value of ``key``, or load it (once across processes) and cache it."""
        if not settings.CACHE_ENABLED:
            return Result(_unwrap(loader())[0], "BYPASS")
        if not self._usable():
            return self._bypass(loader)
        try:
            client = self._client()  # a Cluster client connects as it is made
            generation, tag_generations, value = self._read(client, key, tags)
        except RedisError as exc:
            self._failed("read", exc)
            return self._bypass(loader)
        self.breaker.success()
        if value is not None:
            self.metrics.incr("hit")
            return Result(value, "HIT")

        lease, token = keys.lease(key), secrets.token_hex(8)
        try:
            leased = client.set(lease, token, nx=True, px=self.lease_ms)
        except RedisError as exc:
            self._failed("lease", exc)
            return self._bypass(loader)
        if not leased:
            return self._wait_for_fill(client, key, tags, loader)

        self.metrics.incr("miss")
        try:
            loaded = loader()
        except BaseException:
            self._release(client, lease, token)
            raise
        if loaded is None:
            self._release(client, lease, token)
            return Result(None, "MISS")
        data, version = _unwrap(loaded)
        fields = self._fields(data, generation, tags, tag_generations)
        try:
            stored = scripts.fill(
                client, key, lease, token=token, ttl_ms=ttl * 1000, version=version, fields=fields
            )
        except RedisError as exc:
            self._failed("fill", exc)
        else:
            self.metrics.incr("fill" if stored == 1 else "fill_rejected")
        return Result(data, "MISS")

    def _read(
        self, client: Redis, key: str, tags: Sequence[str], *, with_lease: bool = False
    ) -> tuple[int, list[int], Any]:
        """One round trip: the global and tag generations, the entry, and flushed metrics."""
        pipe = client.pipeline(transaction=False)
        pipe.get(keys.global_generation())
        for tag in tags:
            pipe.get(keys.tag_generation(tag))
        pipe.hgetall(key)
        if with_lease:
            pipe.exists(keys.lease(key))
        due = self.metrics.take_due()
        if due:
            stats = keys.stats()
            for event, count in due.items():
                pipe.hincrby(stats, event, count)
            pipe.expire(stats, 7 * 24 * 3600)
        try:
            replies = pipe.execute()
        except RedisError:
            if due:
                self.metrics.give_back(due)
            raise
        generation = int(replies[0] or 0)
        tag_generations = [int(reply or 0) for reply in replies[1 : 1 + len(tags)]]
        entry: dict[bytes, bytes] = replies[1 + len(tags)]
        value = None
        if (
            b"d" in entry
            and int(entry.get(b"g", -1)) == generation
            and all(
                int(entry.get(f"t:{tag}".encode(), -1)) == current
                for tag, current in zip(tags, tag_generations, strict=True)
            )
        ):
            value = json.loads(entry[b"d"])
        if with_lease:
            return generation, tag_generations, (value, bool(replies[2 + len(tags)]))
        return generation, tag_generations, value

    def _wait_for_fill(
        self, client: Redis, key: str, tags: Sequence[str], loader: Loader
    ) -> Result:
        """Another reader holds the lease: wait for its fill, else read through uncached."""
        self.metrics.incr("singleflight_wait")
        deadline = time.monotonic() + self.wait_max
        delay = 0.002
        while time.monotonic() < deadline:
            self._sleep(delay)
            delay = min(delay * 2, 0.05)
            try:
                _, _, (value, lease_held) = self._read(client, key, tags, with_lease=True)
            except RedisError as exc:
                self._failed("read", exc)
                return self._bypass(loader)
            if value is not None:
                self.metrics.incr("hit")
                return Result(value, "HIT")
            if not lease_held:
                break  # the holder gave up (nothing found, or its loader failed)
        self.metrics.incr("singleflight_timeout")
        return Result(_unwrap(loader())[0], "MISS")

    def _release(self, client: Redis, lease: str, token: str) -> None:
        try:
            scripts.release(client, lease, token=token)
        except RedisError as exc:
            self._failed("release", exc)  # the lease expires by itself

    def _bypass(self, loader: Loader) -> Result:
        self.metrics.incr("bypass")
        return Result(_unwrap(loader())[0], "BYPASS")

    # --- Writes -----------------------------------------------------------------------

    def write_through(
        self, key: str, data: Any, *, version: int, ttl: int, tags: Sequence[str] = ()
    ) -> bool:
        """Store committed ``data`` unless a newer version is cached; void in-flight fills.

        Returns False when the write was refused or Redis failed (then the entry is
        invalidated by the global generation once Redis answers again).
        """
        return self.write_through_many([(key, data, version)], ttl=ttl, tags=tags) == 1

    def write_through_many(
        self, items: Sequence[tuple[str, Any, int]], *, ttl: int, tags: Sequence[str] = ()
    ) -> int:
        """Write through many ``(key, data, version)`` in two round trips (the generations,
        then one pipeline of scripts); returns how many were stored."""
        if not items:
            return 0
        if not self._usable():
            self._lost("write_through", f"{len(items)} entries")
            return 0
        try:
            client = self._client()
            pipe = client.pipeline(transaction=False)
            pipe.get(keys.global_generation())
            for tag in tags:
                pipe.get(keys.tag_generation(tag))
            generation, *tag_generations = (int(reply or 0) for reply in pipe.execute())
            # One pipeline of scripts; a cluster pipeline refuses EVALSHA, so there the
            # scripts run one by one (each still touches one slot).
            batch = client if isinstance(client, RedisCluster) else client.pipeline(False)
            replies = [
                scripts.write(
                    batch, key, keys.lease(key), ttl_ms=ttl * 1000, version=version,
                    fields=self._fields(data, generation, tags, tag_generations),
                )
                for key, data, version in items
            ]  # fmt: skip
            if batch is not client:
                replies = batch.execute()
        except RedisError as exc:
            self._failed("write_through", exc)
            self._lost("write_through", f"{len(items)} entries")
            return 0
        self.breaker.success()
        stored = sum(1 for reply in replies if int(reply) == 1)
        for _ in range(stored):
            self.metrics.incr("write_through")
        for _ in range(len(items) - stored):
            self.metrics.incr("write_through_rejected")
        return stored

    def invalidate(self, key: str, *, version: int = 0, ttl: int = 3600) -> None:
        """Drop ``key`` as of ``version`` (a tombstone refuses anything older), void fills."""
        if not self._usable():
            self._lost("invalidate", key)
            return
        try:
            scripts.invalidate(
                self._client(), key, keys.lease(key), ttl_ms=ttl * 1000, version=version
            )
        except RedisError as exc:
            self._failed("invalidate", exc)
            self._lost("invalidate", key)
            return
        self.breaker.success()
        self.metrics.incr("invalidation")

    def invalidate_tags(self, tags: Sequence[str]) -> None:
        """Make every entry written under the current generation of ``tags`` a miss."""
        if not tags:
            return
        if not self._usable():
            self._lost("invalidate_tags", ",".join(tags))
            return
        try:
            pipe = self._client().pipeline(transaction=False)
            for tag in tags:
                pipe.incr(keys.tag_generation(tag))
            pipe.execute()
        except RedisError as exc:
            self._failed("invalidate_tags", exc)
            self._lost("invalidate_tags", ",".join(tags))
            return
        self.breaker.success()
        for _ in tags:
            self.metrics.incr("tag_invalidation")

    def invalidate_all(self) -> None:
        """Make every entry a miss: bump the global generation."""
        self._client().incr(keys.global_generation())
        self.metrics.incr("generation_bump")

    def flush_metrics(self) -> dict[str, int]:
        """Add this process's counts to the shared totals and return the totals."""
        client = self._client()
        due = self.metrics.take_due(force=True)
        try:
            pipe = client.pipeline(transaction=False)
            for event, count in (due or {}).items():
                pipe.hincrby(keys.stats(), event, count)
            pipe.hgetall(keys.stats())
            totals = pipe.execute()[-1]
        except RedisError:
            if due:
                self.metrics.give_back(due)
            raise
        return {name.decode(): int(count) for name, count in totals.items()}

    # --- Failure handling -------------------------------------------------------------

    def _usable(self) -> bool:
        """May the cache be used now? Settles a pending generation bump first."""
        if not self.breaker.allow():
            return False
        if self._generation_bump_pending:
            try:
                self.invalidate_all()
            except RedisError as exc:
                self._failed("generation_bump", exc)
                return False
            self.breaker.success()
            self._generation_bump_pending = False
            logger.warning("cache: global generation bumped after lost invalidations")
        return True

    def _failed(self, operation: str, exc: RedisError) -> None:
        self.metrics.incr("redis_error")
        self.breaker.failure()
        logger.warning("cache: %s failed, Redis unavailable: %s", operation, exc)

    def _lost(self, operation: str, key: str) -> None:
        """An invalidation or write-through did not reach Redis: never forget it."""
        self._generation_bump_pending = True
        self.metrics.incr("invalidation_failed")
        logger.warning("cache: %s of %s deferred to a global generation bump", operation, key)

    @staticmethod
    def _fields(
        data: Any, generation: int, tags: Sequence[str], tag_generations: Sequence[int]
    ) -> dict[str, str | int]:
        fields: dict[str, str | int] = {
            "d": json.dumps(data, cls=DjangoJSONEncoder, separators=(",", ":")),
            "g": generation,
        }
        for tag, current in zip(tags, tag_generations, strict=True):
            fields[f"t:{tag}"] = current
        return fields


cache_service = CacheService()
