"""The cache service: read-through with leases, write-through, invalidation, tags.

An entry is a Redis hash (``caching/entries.py``). A read fetches the generations and the
entry in one pipelined round trip; the entry counts only if its generations are current.

- **Leases** (stale-set protection): a miss takes a lease token before reading the
  database; an invalidation deletes the lease; ``store.lua`` stores the value only if the
  token is still current. A reader that loaded old data around a writer's commit is thus
  refused, instead of caching the old row until the TTL.
- **Single flight**: a miss that finds the lease taken waits (polling, up to
  ``wait_max``) for the holder's fill, and reads through to the database if it does not
  come. One loader call per cold key.
- **Versions**: fills and write-throughs carry the row's version; an older version never
  replaces a newer one, and invalidations leave a tombstone holding the version, so
  reordered writes cannot bring back an old value. Deletions hold ``DELETED``.
- **Tags** are generation counters (``generations.py``): invalidating a tag is one bump;
  entries written under the old generation stop counting. No sets of members, no
  ``KEYS``. "Everything" is one generation per group of entries.
- **Changes** (``caching/changes.py``) are applied by :meth:`CacheService.submit`; one
  that cannot reach Redis is refused in a request or recorded in the database
  (``policy.py``, ``recovery.py``), and recorded ones are replayed by every process.
- **Failure policy**: a Redis error opens the circuit breaker and reads go to the database
  (``BYPASS``).
"""

from __future__ import annotations

import logging
import secrets
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from redis import Redis, RedisError
from redis.client import Pipeline

from caching import changes as change
from caching import entries, generations, keys, scripts
from caching.changes import Change
from caching.entries import Loader, Result, unwrap
from caching.metrics import Metrics
from caching.recovery import Recovery
from project.redis import scripts as redis_scripts
from project.redis.breaker import CircuitBreaker
from project.redis.client import get_client

logger = logging.getLogger("caching")


class CacheService:
    def __init__(
        self,
        *,
        client: Redis | None = None,
        breaker: CircuitBreaker | None = None,
        metrics: Metrics | None = None,
        lease_ms: int = 3000,
        wait_max: float = 1.0,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self._client = client
        self.metrics = metrics or Metrics()
        self.recovery = Recovery(breaker=breaker or CircuitBreaker(), metrics=self.metrics)
        self.lease_ms = lease_ms
        self.wait_max = wait_max
        self._sleep = sleep

    @property
    def _redis(self) -> Redis:
        return self._client or get_client()

    @property
    def breaker(self) -> CircuitBreaker:
        return self.recovery.breaker

    def reset(self) -> None:
        """Forget this process's failure state: a closed breaker, a replay at the next use."""
        self.recovery.reset()

    # --- Reads ------------------------------------------------------------------------

    def get(self, key: str, loader: Loader, *, ttl: int, tags: Sequence[str] = ()) -> Result:
        """Return the cached value of ``key``, or load it (once across processes) and cache it."""
        if not settings.CACHE_ENABLED:
            return Result(unwrap(loader())[0], "BYPASS")
        if not self.recovery.usable():
            return self._bypass(loader)
        try:
            client = self._redis  # a Cluster client connects as it is made
            if self.recovery.replay_due():
                self.recovery.replay(self.apply)
            generation, tag_generations, value = self._read(client, key, tags)
        except RedisError as exc:
            self.recovery.failed("read", exc)
            return self._bypass(loader)
        self.recovery.succeeded()
        if value is not None:
            self.metrics.incr("hit")
            return Result(value, "HIT")

        lease, token = keys.lease(key), secrets.token_hex(8)
        try:
            leased = client.set(lease, token, nx=True, px=self.lease_ms)
        except RedisError as exc:
            self.recovery.failed("lease", exc)
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
        data, version = unwrap(loaded)
        fields = entries.encode(data, generation, tags, tag_generations)
        try:
            stored = scripts.fill(
                client, key, lease, token=token, ttl_ms=ttl * 1000, version=version, fields=fields
            )
        except RedisError as exc:
            self.recovery.failed("fill", exc)
        else:
            self.metrics.incr("fill" if stored == 1 else "fill_rejected")
        return Result(data, "MISS")

    def _read(self, client: Redis, key: str, tags: Sequence[str]) -> tuple[int, list[int], Any]:
        """One round trip: the generations, the entry's current value (or None), and this
        process's metrics when they are due."""
        return generations.settled(client, lambda: self._read_once(client, key, tags), self.metrics)

    def _read_once(
        self, client: Redis, key: str, tags: Sequence[str]
    ) -> tuple[int, list[int], Any]:
        pipe = self._read_pipeline(client, key, tags)
        *replies, entry = self._execute_read(pipe, queued=len(tags) + 2)
        (generation, *tag_generations), restarted = self._generations(client, key, tags, replies)
        if restarted:
            return generation, tag_generations, None  # nothing was written under a new counter
        value = entries.decode(entry, generation, tags, tag_generations)
        return generation, tag_generations, value

    def _read_with_lease(self, client: Redis, key: str, tags: Sequence[str]) -> tuple[Any, bool]:
        """One round trip: the entry's current value (or None) and whether a lease is held."""

        def read() -> tuple[Any, bool]:
            pipe = self._read_pipeline(client, key, tags)
            pipe.exists(keys.lease(key))
            *replies, entry, leased = self._execute_read(pipe, queued=len(tags) + 3)
            (generation, *tag_generations), _ = self._generations(client, key, tags, replies)
            return entries.decode(entry, generation, tags, tag_generations), bool(leased)

        return generations.settled(client, read, self.metrics)

    def _read_pipeline(self, client: Redis, key: str, tags: Sequence[str]) -> Pipeline:
        pipe = client.pipeline(transaction=False)
        for counter in generations.counters(key, tags):
            pipe.get(counter)
        pipe.hgetall(key)
        return pipe

    def _generations(
        self, client: Redis, key: str, tags: Sequence[str], replies: list[Any]
    ) -> tuple[list[int], bool]:
        values, made = generations.values(client, generations.counters(key, tags), replies)
        self.metrics.incr("generation_restarted", made)
        return values, made > 0

    def _execute_read(self, pipe: Pipeline, *, queued: int) -> list[Any]:
        """Run a read of ``queued`` commands, with this process's due metrics riding along
        (no round trip of their own); the read's replies come back."""
        due = self.metrics.queue_due(pipe)
        try:
            replies: list[Any] = pipe.execute()
        except RedisError:
            self.metrics.give_back(due)
            raise
        return replies[:queued]

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
                value, lease_held = self._read_with_lease(client, key, tags)
            except RedisError as exc:
                self.recovery.failed("read", exc)
                return self._bypass(loader)
            if value is not None:
                self.metrics.incr("hit")
                return Result(value, "HIT")
            if not lease_held:
                break  # the holder gave up (nothing found, or its loader failed)
        self.metrics.incr("singleflight_timeout")
        return Result(unwrap(loader())[0], "MISS")

    def _release(self, client: Redis, lease: str, token: str) -> None:
        try:
            redis_scripts.compare_and_delete(client, lease, token)
        except RedisError as exc:
            self.recovery.failed("release", exc)  # the lease expires by itself

    def _bypass(self, loader: Loader) -> Result:
        self.metrics.incr("bypass")
        return Result(unwrap(loader())[0], "BYPASS")

    # --- Writes -----------------------------------------------------------------------

    def write_through(
        self, key: str, data: Any, *, version: int, ttl: int, tags: Sequence[str] = ()
    ) -> bool:
        """Store committed ``data`` over its writer's mark (or an older entry), unless a
        newer version is cached; void in-flight fills. False if refused or Redis failed:
        the mark then stays, and readers fill from the database."""
        return self.write_through_many([(key, data, version)], ttl=ttl, tags=tags) == 1

    def write_through_many(
        self, items: Sequence[tuple[str, Any, int]], *, ttl: int, tags: Sequence[str] = ()
    ) -> int:
        """Write through many ``(key, data, version)`` in two round trips (the generations,
        then one pipeline of scripts); returns how many were stored."""
        if not items or not self.recovery.usable():
            return 0
        try:
            client = self._redis
            counters = [
                *(keys.group_generation(key) for key, _, _ in items),
                *(keys.tag_generation(tag) for tag in tags),
            ]
            pipe = client.pipeline(transaction=False)
            for counter in counters:
                pipe.get(counter)
            values, made = generations.values(client, counters, pipe.execute())
            self.metrics.incr("generation_restarted", made)
            groups, tag_generations = values[: len(items)], values[len(items) :]
            batch = redis_scripts.batch(client)
            results = [
                scripts.write(
                    batch, key, keys.lease(key), ttl_ms=ttl * 1000, version=version,
                    fields=entries.encode(data, group, tags, tag_generations),
                )
                for (key, data, version), group in zip(items, groups, strict=True)
            ]  # fmt: skip
            if isinstance(batch, Pipeline):
                results = batch.execute()
        except RedisError as exc:
            self.recovery.failed("write_through", exc)
            self.metrics.incr("write_through_failed", len(items))
            return 0
        self.recovery.succeeded()
        stored = sum(1 for reply in results if int(reply) == 1)
        self.metrics.incr("write_through", stored)
        self.metrics.incr("write_through_rejected", len(items) - stored)
        return stored

    def invalidate(self, key: str, *, version: int = 0, ttl: int = 3600) -> None:
        """Drop ``key`` as of ``version`` (a tombstone refuses anything older), void fills."""
        self.submit([change.entry(key, version, ttl)])

    def invalidate_tags(self, tags: Sequence[str]) -> None:
        """Make every entry written under the current generation of ``tags`` a miss."""
        self.submit([change.tag(tag) for tag in tags])

    def invalidate_all(self) -> None:
        """Make every entry a miss: bump every group's generation."""
        self.submit([change.EVERYTHING])

    def submit(
        self, changes: Sequence[Change], *, using: str = "default", committed: bool = False
    ) -> None:
        """Apply ``changes`` in Redis now, else refuse or record them (``Recovery.submit``)."""
        if changes:
            self.recovery.submit(changes, self.apply, using=using, committed=committed)

    def apply(self, changes: Sequence[Change]) -> None:
        """Apply ``changes`` in Redis now; raises RedisError."""
        change.apply(self._redis, changes)
        kinds = Counter(item.kind for item in changes)
        self.metrics.incr("invalidation", kinds["entry"] + kinds["reset"])
        self.metrics.incr("tag_invalidation", kinds["tag"])
        self.metrics.incr("generation_bump", kinds["all"])

    def flush_metrics(self) -> dict[str, int]:
        """Add this process's counts to the shared totals and return the totals."""
        return self.metrics.flush(self._redis)


cache_service = CacheService()
