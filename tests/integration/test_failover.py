"""A forced Sentinel failover while the app serves (runs in `make test-sentinel` only)."""

from __future__ import annotations

import queue
import threading
import time
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import redis
from django.db import connection
from rest_framework.test import APIClient

from caching.services import cache_service
from project.events import registry
from project.events.delivery import Backoff
from project.events.envelope import Event
from project.events.listener import Listener
from project.events.publisher import Publisher
from project.redis.breaker import CircuitBreaker
from project.redis.client import get_client
from scripts.topology import sentinel_failover, sentinel_settled
from users.models import User

# Committed rows: the reader thread has its own database connection.
pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


@pytest.fixture(autouse=True)
def sentinel_only(settings: Any) -> Iterator[None]:
    if settings.REDIS_TOPOLOGY.kind != "sentinel":
        pytest.skip("needs the Sentinel topology (make test-sentinel)")
    yield
    sentinel_settled()  # the tests after this one write to the new primary only


@pytest.fixture
def listening() -> Iterator[tuple[queue.Queue[Event], queue.Queue[int]]]:
    """A listener on the "failover" channel: (events it delivered, resyncs it ran)."""
    inbox: queue.Queue[Event] = queue.Queue()
    resyncs: queue.Queue[int] = queue.Queue()
    registry.declare("test.failover")
    registry.handler("test.failover")(inbox.put)
    listener = Listener(
        ["failover"], on_resync=lambda: resyncs.put(1), ping_interval=0.5, pong_timeout=0.5,
        poll=0.1, backoff=Backoff(base=0.05, cap=0.5),
    )  # fmt: skip
    thread = threading.Thread(target=listener.run, daemon=True)
    thread.start()
    try:
        yield inbox, resyncs
    finally:  # a failed assertion must not leave it consuming for the tests after this one
        listener.stop.set()
        thread.join(timeout=5)
        registry.unregister("test.failover", inbox.put)


def test_the_app_rides_through_a_failover(
    make_user: Callable[..., User],
    listening: tuple[queue.Queue[Event], queue.Queue[int]],
    settings: Any,
) -> None:
    # The reader below reads as fast as it can for as long as the failover takes (about 1,000
    # reads a second): the suite's anonymous rate would refuse some, which is not what is tested.
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "anon": "1000000/min"}
    cache_service.recovery.breaker = CircuitBreaker(cooldown=0.2)
    user = make_user(full_name="Before")
    inbox, resyncs = listening
    assert resyncs.get(timeout=10)

    statuses: list[int] = []
    stop = threading.Event()

    def read_all_along() -> None:
        client = APIClient()
        try:
            while not stop.is_set():
                statuses.append(client.get(f"/api/users/{user.pk}/").status_code)
        finally:
            connection.close()

    reader = threading.Thread(target=read_all_along)
    reader.start()
    try:
        began = time.monotonic()
        sentinel_failover()
        failed_writes = 0
        while True:  # writes resume once the client follows the sentinel to the new primary
            try:
                get_client().set("failover:probe", "1")
                break
            except redis.RedisError:
                failed_writes += 1
                assert time.monotonic() - began < 30, "writes did not resume within 30 s"
                time.sleep(0.05)
        resumed_after = time.monotonic() - began
    finally:
        stop.set()
        reader.join()
    print(
        f"\nfailover: writes resumed after {resumed_after:.2f}s, {failed_writes} failed writes; "
        f"{len(statuses)} reads meanwhile, {sum(s != 200 for s in statuses)} failed"
    )
    assert statuses
    assert set(statuses) == {200}  # reads never failed: served from Redis or the database
    assert resyncs.get(timeout=20)  # the listener reconnected (and resynced)
    event = Event("test.failover", user.pk)
    for _ in range(20):  # publish until one goes through the new primary to the listener
        Publisher(breaker=CircuitBreaker(cooldown=0)).publish("failover", event)
        try:
            received = inbox.get(timeout=1)
            break
        except queue.Empty:
            continue
    else:
        pytest.fail("no event reached the listener within 20 s of the failover")
    assert received == event
