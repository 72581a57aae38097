"""The lock: exclusive, owner-checked, fenced, and loud when Redis is down."""

from __future__ import annotations

import threading
import time
from typing import Any

import pytest
import redis

from project.locks.lock import FencedOutError, Lock, LockNotAcquiredError, advance_fence

pytestmark = pytest.mark.redis


def test_two_holders_never_overlap(together: Any) -> None:
    lock = Lock("overlap", ttl=10)
    inside = 0
    overlaps = 0
    guard = threading.Lock()

    def worker(_: int) -> None:
        nonlocal inside, overlaps
        for _ in range(20):
            with lock.hold(timeout=10):
                with guard:
                    inside += 1
                    overlaps += inside > 1
                time.sleep(0)  # let another thread try while we hold it
                with guard:
                    inside -= 1

    together(8, worker)
    assert overlaps == 0


def test_fences_increase_with_every_grant() -> None:
    lock = Lock("fences", ttl=10)
    fences = []
    for _ in range(3):
        grant = lock.acquire()
        assert grant is not None
        fences.append(grant.fence)
        lock.release(grant)
    assert fences == sorted(fences)
    assert len(set(fences)) == 3


def test_only_the_owner_releases_or_extends(redis_client: redis.Redis) -> None:
    lock = Lock("owner", ttl=10)
    mine = lock.acquire()
    assert mine is not None
    redis_client.delete(lock.key)  # my TTL ran out...
    theirs = lock.acquire()  # ...and someone else holds it now
    assert theirs is not None
    assert lock.release(mine) is False
    assert lock.extend(mine, ttl=10) is False
    assert redis_client.get(lock.key) == theirs.token.encode()
    assert lock.release(theirs) is True


def test_every_lock_has_a_ttl(redis_client: redis.Redis) -> None:
    lock = Lock("ttl", ttl=5)
    grant = lock.acquire()
    assert grant is not None
    assert 0 < redis_client.pttl(lock.key) <= 5000
    assert lock.extend(grant, ttl=20)
    assert 5000 < redis_client.pttl(lock.key) <= 20000
    with pytest.raises(ValueError, match="positive TTL"):
        Lock("no-ttl", ttl=0)


def test_a_busy_lock_times_out() -> None:
    lock = Lock("busy", ttl=10)
    held = lock.acquire()
    assert held is not None
    assert lock.acquire(timeout=0.05) is None
    with pytest.raises(LockNotAcquiredError), lock.hold(timeout=0.05):
        pass


@pytest.mark.django_db
def test_a_holder_paused_past_its_ttl_is_fenced_out(redis_client: redis.Redis) -> None:
    lock = Lock("paused", ttl=10)
    slow = lock.acquire()
    redis_client.delete(lock.key)  # slow's TTL runs out while it is paused
    fast = lock.acquire()
    assert slow is not None
    assert fast is not None
    advance_fence("paused", fast.fence)  # the new holder writes
    with pytest.raises(FencedOutError):
        advance_fence("paused", slow.fence)  # the old one wakes up and tries


@pytest.mark.usefixtures("redis_down")
def test_redis_down_raises_instead_of_looking_busy() -> None:
    lock = Lock("down", ttl=10)
    with pytest.raises(redis.ConnectionError):
        lock.acquire(timeout=1)


@pytest.mark.django_db
def test_a_fence_counter_lost_by_redis_does_not_lock_out_the_holder(
    redis_client: redis.Redis,
) -> None:
    lock = Lock("reset", ttl=10)
    first = lock.acquire()
    assert first is not None
    lock.record_fence(first)
    lock.release(first)
    redis_client.delete(lock.fence_key)  # Redis restarted without its data
    again = lock.acquire()
    assert again is not None
    assert again.fence <= first.fence  # the counter started over...
    renewed = lock.record_fence(again)  # ...and is moved past the database's fence
    assert renewed.fence > first.fence


@pytest.mark.django_db
def test_record_fence_still_refuses_a_holder_whose_lock_expired(
    redis_client: redis.Redis,
) -> None:
    lock = Lock("expired", ttl=10)
    slow = lock.acquire()
    redis_client.delete(lock.key)
    fast = lock.acquire()
    assert slow is not None
    assert fast is not None
    lock.record_fence(fast)
    with pytest.raises(FencedOutError):
        lock.record_fence(slow)
