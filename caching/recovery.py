"""This process's failure state in front of Redis, and the changes Redis did not get.

A Redis error opens the breaker: reads go to the database until it closes; nothing global
happens, because a write marks its entries in Redis before it commits (``registry.py``),
so a write-through that fails after the commit only leaves the mark, which sends readers
to the database until the next fill.

A change that cannot be marked is refused in a request (``policy.py``: 503, nothing
committed). Anywhere else (a command, a shell, a worker) it is recorded in the database,
in the writer's own transaction (:class:`caching.models.PendingInvalidation`): it survives
that process. Every process that uses the cache replays the records about once a second
(:meth:`Recovery.replay_due`), so they take effect within a second or two of Redis
answering again, with no worker or command to run.
"""

from __future__ import annotations

import logging
import math
import threading
import time
from collections.abc import Callable, Sequence

from django.db import DatabaseError, transaction
from redis import RedisError

from caching import policy
from caching.changes import Change
from caching.metrics import Metrics
from caching.models import PendingInvalidation
from project.redis.breaker import CircuitBreaker

logger = logging.getLogger("caching")

Apply = Callable[[Sequence[Change]], None]
REPLAY_BATCH = 500


class Recovery:
    def __init__(
        self,
        *,
        breaker: CircuitBreaker,
        metrics: Metrics,
        replay_seconds: float = 1.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.breaker = breaker
        self._metrics = metrics
        self.replay_seconds = replay_seconds
        self._clock = clock
        self._lock = threading.Lock()
        self._next_replay = 0.0

    def usable(self) -> bool:
        """May the cache be used now (the breaker is closed, or this call probes)?"""
        return self.breaker.allow()

    def succeeded(self) -> None:
        self.breaker.success()

    def failed(self, operation: str, exc: RedisError) -> None:
        self._metrics.incr("redis_error")
        self.breaker.failure()
        logger.warning("cache: %s failed, Redis unavailable: %s", operation, exc)

    # --- Changes Redis must get -------------------------------------------------------

    def submit(
        self, changes: Sequence[Change], apply: Apply, *, using: str, committed: bool
    ) -> None:
        """``apply(changes)`` now, whatever the breaker says (reads skip Redis while it is
        open; a write that Redis can take is not refused). If Redis cannot be told: in a
        request, before the commit,
        raise ``CacheUnavailableError`` (the write rolls back, the client gets a 503);
        otherwise record them in the database ``using`` (in its current transaction, if
        any) for every process to replay."""
        try:  # even with the breaker open: a write is refused only if Redis fails it
            apply(changes)
        except RedisError as exc:
            self.failed("invalidate", exc)
            self._metrics.incr("invalidation_failed", len(changes))
            if policy.refuses() and not committed:
                raise policy.CacheUnavailableError(math.ceil(self.breaker.cooldown) or 1) from exc
            self.record(changes, using=using)
            return
        self.succeeded()

    def record(self, changes: Sequence[Change], *, using: str) -> None:
        """Keep ``changes`` in the database (in the current transaction, if any), for any
        process to apply once Redis answers."""
        PendingInvalidation.objects.using(using).bulk_create(
            PendingInvalidation(kind=c.kind, key=c.key, version=c.version, ttl=c.ttl)
            for c in changes
        )
        self._metrics.incr("invalidation_recorded", len(changes))
        self._next_replay = 0.0  # this process replays at its next cache use
        logger.warning("cache: %d changes recorded, to apply once Redis answers", len(changes))

    def steady(self) -> bool:
        """Nothing to do before a read: the breaker closed and no replay due. (Asks only:
        the async read leaves both to the sync path, which acts on them.)"""
        return not self.breaker.is_open and self._clock() < self._next_replay

    def replay_due(self) -> bool:
        """Is it time to look for recorded changes (about once per ``replay_seconds``)?"""
        now = self._clock()
        if now < self._next_replay:
            return False
        with self._lock:
            if now < self._next_replay:
                return False
            self._next_replay = now + self.replay_seconds
        return True

    def replay(self, apply: Apply) -> int:
        """Apply the recorded changes (oldest first) and delete them; how many were applied.
        Redis failing keeps them for the next round; so does a database that cannot answer."""
        try:
            with transaction.atomic():  # a savepoint: a failed query spoils no caller's transaction
                rows = list(PendingInvalidation.objects.order_by("id")[:REPLAY_BATCH])
        except DatabaseError as exc:  # e.g. before ``migrate`` made the table
            logger.debug("cache: recorded changes unreadable: %s", exc)
            return 0
        if not rows:
            return 0
        apply([Change(row.kind, row.key, row.version, row.ttl) for row in rows])  # type: ignore[arg-type]
        try:  # applying twice is harmless: another process may replay the same rows
            PendingInvalidation.objects.filter(id__in=[row.id for row in rows]).delete()
        except DatabaseError as exc:
            logger.warning("cache: applied changes not deleted, they will apply again: %s", exc)
        self._metrics.incr("invalidation_replayed", len(rows))
        logger.warning("cache: applied %d changes recorded while Redis was away", len(rows))
        if len(rows) == REPLAY_BATCH:
            self._next_replay = 0.0  # more wait
        return len(rows)

    def reset(self) -> None:
        """Forget the failure state: a closed breaker, replay at the next use."""
        self.breaker = CircuitBreaker(cooldown=self.breaker.cooldown)
        self._next_replay = 0.0
