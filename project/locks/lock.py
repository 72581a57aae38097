"""A Redis lock that is safe to build on (docs/structures.md, The lock).

- Always a TTL: a holder that crashes cannot deadlock everyone.
- An owner token: release and extend compare it atomically (a Lua script), so a holder
  whose lock expired cannot release the next holder's.
- A fencing number from a per-lock counter, increasing with every grant: a holder paused
  past its TTL (GC, swap, a stalled disk) may still try to write; guard the write with
  the number (``advance_fence`` below: ``UPDATE … WHERE value < %s``) and the late holder
  is refused.
- A Redis error raises; it never looks like "the lock is busy".
- The lock key is its own key, never the data's (django-cacheops stored 'LOCK' in the data).

    lock = Lock("counters-flush", ttl=30)
    with lock.hold(timeout=5) as grant:       # LockNotAcquiredError after 5 s
        with transaction.atomic():
            lock.record_fence(grant)          # FencedOutError if a later holder wrote
            ...
"""

from __future__ import annotations

import random
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from dataclasses import dataclass

from django.db import transaction
from redis import Redis

from project.locks import keys, scripts
from project.locks.models import Fence
from project.redis.client import get_client
from project.redis.scripts import compare_and_delete


class LockNotAcquiredError(Exception):
    """The lock stayed taken for the whole timeout."""


class FencedOutError(Exception):
    """A later holder of the lock has written already: this holder's turn is over."""

    def __init__(self, message: str, *, current: int) -> None:
        super().__init__(message)
        self.current = current  # the fence of the last write


@dataclass(frozen=True)
class Grant:
    token: str
    fence: int


class Lock:
    def __init__(
        self,
        name: str,
        *,
        ttl: float,
        client: Redis | None = None,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        if ttl <= 0:
            raise ValueError("a lock needs a positive TTL")
        self.name = name
        self.ttl_ms = int(ttl * 1000)
        self.key = keys.lock(name)
        self.fence_key = keys.fence(name)
        self._client = client
        self._sleep = sleep

    @property
    def _redis(self) -> Redis:
        return self._client or get_client()

    def acquire(self, *, timeout: float | None = None) -> Grant | None:
        """Take the lock; with ``timeout``, retry (with jitter) until then. None if taken."""
        token = secrets.token_hex(16)
        deadline = None if timeout is None else time.monotonic() + timeout
        pause = 0.005
        while True:
            fence = scripts.acquire(
                self._redis, self.key, self.fence_key, token=token, ttl_ms=self.ttl_ms
            )
            if fence is not None:
                return Grant(token, fence)
            if deadline is None or time.monotonic() >= deadline:
                return None
            self._sleep(min(random.uniform(pause / 2, pause), max(deadline - time.monotonic(), 0)))
            pause = min(pause * 2, 0.2)

    def release(self, grant: Grant) -> bool:
        """Release if still ours; False if it expired (and maybe went to someone else)."""
        return compare_and_delete(self._redis, self.key, grant.token)

    def extend(self, grant: Grant, *, ttl: float) -> bool:
        """Give ourselves ``ttl`` more seconds, if the lock is still ours."""
        return scripts.extend(self._redis, self.key, token=grant.token, ttl_ms=int(ttl * 1000))

    def record_fence(self, grant: Grant) -> Grant:
        """``advance_fence`` for this lock, surviving a fence counter that Redis lost.

        If the database has seen a higher fence while we still hold the lock, the
        counter restarted (a Redis restart without persistence, a failover): move it past
        the database's and write with the new number. A holder whose lock expired is
        refused (FencedOutError), as it must be.
        """
        try:
            advance_fence(self.name, grant.fence)
            return grant
        except FencedOutError as exc:
            fence = scripts.refence(
                self._redis, self.key, self.fence_key, token=grant.token, floor=exc.current
            )
            if fence is None:
                raise
        renewed = Grant(grant.token, fence)
        advance_fence(self.name, renewed.fence)
        return renewed

    @contextmanager
    def hold(self, *, timeout: float) -> Iterator[Grant]:
        grant = self.acquire(timeout=timeout)
        if grant is None:
            raise LockNotAcquiredError(f"lock {self.name!r} still taken after {timeout}s")
        try:
            yield grant
        finally:
            self.release(grant)


def advance_fence(name: str, fence: int) -> None:
    """Record ``fence`` as the latest writer of ``name`` in the database, or raise
    FencedOutError if a later holder wrote first. Call inside the guarded transaction."""
    with transaction.atomic():
        Fence.objects.get_or_create(name=name)
        if not Fence.objects.filter(name=name, value__lt=fence).update(value=fence):
            current = Fence.objects.values_list("value", flat=True).get(name=name)
            raise FencedOutError(
                f"fence {fence} of {name!r} is not above the last write's ({current})",
                current=current,
            )
