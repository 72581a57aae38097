"""The stream's promises against the real Redis: nothing a consumer group still needs is
trimmed within EVENTS_STREAM_MAXLEN and what is trimmed beyond it is counted; one consumer
at a time runs a delivery; a failed handler does not re-run the others; what no handler
can take is dead-lettered; what the consumers keep stays bounded."""

from __future__ import annotations

import logging
import threading
from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any, cast

import pytest
import redis
from django.test import override_settings
from redis.cluster import RedisCluster

from project.events import keys, registry
from project.events.consumer import StreamConsumer
from project.events.envelope import Event
from project.events.publisher import Publisher, stats
from project.redis.client import dedicated_client

# Handlers run in the test's thread: close_old_connections() needs a real (non-atomic)
# database connection, as in production.
pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

TOPIC = "tests"
TYPE = "test.stream"
BOUND = 100


@pytest.fixture
def seen() -> Iterator[Counter[int]]:
    """How many times a handler of test.stream ran per ``user_id`` (the event's number)."""
    runs: Counter[int] = Counter()

    def count(event: Event) -> None:
        runs[cast(int, event.user_id)] += 1

    registry.declare(TYPE)
    registry.handler(TYPE)(count)
    yield runs
    registry.unregister(TYPE, count)


@pytest.fixture
def handler() -> Iterator[Callable[[Callable[[Event], None]], None]]:
    """Register more handlers of test.stream for this test."""
    added: list[Callable[[Event], None]] = []

    def add(function: Callable[[Event], None]) -> None:
        registry.handler(TYPE)(function)
        added.append(function)

    yield add
    for function in added:
        registry.unregister(TYPE, function)


@pytest.fixture
def small_stream(redis_config: Callable[..., None]) -> Iterator[None]:
    """A bound of 100 entries, kept in nodes of 10 (so trimming happens within a test)."""
    redis_config(stream_node_max_entries=10)
    with override_settings(EVENTS_STREAM_MAXLEN=BOUND):
        yield


def consumer(name: str, **options: int) -> StreamConsumer:
    options = {"claim_idle_ms": 0, "claim_every": 0, "block_ms": 10, **options}
    return StreamConsumer(TOPIC, consumer=name, **options)  # type: ignore[arg-type]


def publish(publisher: Publisher, first: int, count: int) -> None:
    for number in range(first, first + count):
        assert publisher.publish(TOPIC, Event(TYPE, number))


def drain(worker: StreamConsumer, client: redis.Redis) -> None:
    while worker.step(client):
        pass


def test_a_pending_entry_outlives_trimming_within_the_bound(
    seen: Counter[int],
    handler: Callable[[Callable[[Event], None]], None],
    redis_client: redis.Redis,
    small_stream: None,
) -> None:
    tries_of_60: list[str] = []

    def fails_on_60_once(event: Event) -> None:
        if event.user_id == 60:
            tries_of_60.append("failed" if not tries_of_60 else "ok")
            if tries_of_60 == ["failed"]:
                raise RuntimeError("transient")

    handler(fails_on_60_once)
    worker = consumer("a", claim_every=3600)  # no redelivery until the end
    worker._ensure_group(redis_client)
    publisher = Publisher()
    # 100 events handled as they come, but number 60 failed and stays pending: the group
    # needs it, 99 entries behind the newest, within the bound of 100.
    for number in range(100):
        publish(publisher, number, 1)
        worker.step(redis_client)
    publish(publisher, 100, 60)  # more than the bound since number 60: the stream trims
    drain(worker, redis_client)
    assert redis_client.xlen(keys.stream(TOPIC)) <= BOUND
    worker.claim_every = 0  # now redeliver
    worker.step(redis_client)
    assert tries_of_60 == ["failed", "ok"]
    assert sorted(seen) == list(range(160))
    assert redis_client.get(keys.lost(TOPIC)) is None
    assert redis_client.xpending(keys.stream(TOPIC), worker.group)["pending"] == 0


def test_a_group_further_behind_than_the_bound_loses_entries_counted_and_logged(
    seen: Counter[int],
    redis_client: redis.Redis,
    small_stream: None,
    caplog: pytest.LogCaptureFixture,
) -> None:
    survivor = consumer("survivor")
    survivor._ensure_group(redis_client)
    publisher = Publisher()
    lost_before = stats["lost"]
    publish(publisher, 0, 50)
    # A consumer reads the first 50 and dies before handling them.
    redis_client.xreadgroup(survivor.group, "doomed", {keys.stream(TOPIC): ">"}, count=50)
    with caplog.at_level(logging.ERROR, logger="project.events"):
        publish(publisher, 50, 100)  # 150 entries the group needs, 100 kept
        drain(survivor, redis_client)
    assert redis_client.xlen(keys.stream(TOPIC)) == BOUND
    assert int(redis_client.get(keys.lost(TOPIC)) or 0) == 50
    assert stats["lost"] - lost_before == 50
    assert survivor.counters["trimmed"] == 50  # the dead consumer's, found by XAUTOCLAIM
    assert sorted(seen) == list(range(50, 150))  # all the rest, once
    assert set(seen.values()) == {1}
    assert "trimmed before every consumer group handled them" in caplog.text
    assert "pending entries were trimmed" in caplog.text
    assert redis_client.hlen(keys.progress(TOPIC)) == 0


def test_without_a_group_the_stream_is_capped_and_nothing_counts_as_lost(
    redis_client: redis.Redis, small_stream: None
) -> None:
    publish(Publisher(), 0, 300)
    assert BOUND <= redis_client.xlen(keys.stream(TOPIC)) < BOUND + 20
    assert redis_client.get(keys.lost(TOPIC)) is None


def test_what_the_consumers_keep_is_bounded_by_the_stream(
    seen: Counter[int], redis_client: redis.Redis, small_stream: None
) -> None:
    worker = consumer("a")
    worker._ensure_group(redis_client)
    publisher = Publisher()
    for first in range(0, 1000, 50):
        publish(publisher, first, 50)
        drain(worker, redis_client)
    assert len(seen) == 1000
    length = redis_client.xlen(keys.stream(TOPIC))
    assert length <= BOUND
    assert redis_client.zcard(keys.handled(TOPIC)) <= length + 50  # marks of kept entries
    assert redis_client.hlen(keys.progress(TOPIC)) == 0  # nothing pending, nothing held
    assert redis_client.keys(f"*{TOPIC}*done*") == []


def test_an_event_appended_twice_runs_its_handlers_once(
    seen: Counter[int], redis_client: redis.Redis
) -> None:
    """A publisher whose reply was lost sends the event again: two entries, one event."""
    worker = consumer("a")
    worker._ensure_group(redis_client)
    event = Event(TYPE, 5)
    Publisher().publish(TOPIC, event)
    Publisher().publish(TOPIC, event)
    drain(worker, redis_client)
    assert seen == {5: 1}
    assert worker.counters["duplicates"] == 1
    assert redis_client.xpending(keys.stream(TOPIC), worker.group)["pending"] == 0


def test_a_delivery_handed_on_by_xautoclaim_is_not_run_while_its_first_consumer_runs_it(
    handler: Callable[[Callable[[Event], None]], None], redis_client: redis.Redis
) -> None:
    started, finish = threading.Event(), threading.Event()
    runs: list[str] = []

    def slow(event: Event) -> None:
        runs.append(threading.current_thread().name)
        started.set()
        assert finish.wait(10)

    registry.declare(TYPE)
    handler(slow)
    first = consumer("slow", lease_ms=60_000)
    first._ensure_group(redis_client)
    Publisher().publish(TOPIC, Event(TYPE, 1))
    with dedicated_client(socket_timeout=15) as own:  # the first consumer's connection
        thread = threading.Thread(target=first.step, args=(own,), name="first")
        thread.start()
        assert started.wait(10)
        second = consumer("eager")  # XAUTOCLAIM with no idle time: takes the entry over
        second.step(redis_client)
        assert second.counters["busy"] == 1
        finish.set()
        thread.join(10)
    assert runs == ["first"]
    assert first.counters["events"] == 1
    assert redis_client.xpending(keys.stream(TOPIC), first.group)["pending"] == 0
    second.step(redis_client)  # acknowledged: nothing left to claim
    assert runs == ["first"]


def test_a_failing_handler_does_not_make_the_others_run_again(
    seen: Counter[int],
    handler: Callable[[Callable[[Event], None]], None],
    redis_client: redis.Redis,
) -> None:
    attempts: list[int] = []

    def flaky(event: Event) -> None:
        attempts.append(cast(int, event.user_id))
        if len(attempts) < 3:
            raise RuntimeError("not yet")

    handler(flaky)
    worker = consumer("a")
    worker._ensure_group(redis_client)
    Publisher().publish(TOPIC, Event(TYPE, 9))
    for _ in range(3):
        worker.step(redis_client)
    assert attempts == [9, 9, 9]
    assert seen == {9: 1}
    assert worker.counters["failed_deliveries"] == 2
    assert redis_client.xpending(keys.stream(TOPIC), worker.group)["pending"] == 0
    assert redis_client.hlen(keys.progress(TOPIC)) == 0


def test_what_no_handler_can_take_is_dead_lettered_with_its_reason(
    seen: Counter[int], redis_client: redis.Redis
) -> None:
    worker = consumer("a")
    worker._ensure_group(redis_client)
    stream = keys.stream(TOPIC)
    redis_client.xadd(stream, {"event": b"{not json"})
    redis_client.xadd(stream, {"event": Event("test.nobody-handles-this", 1).to_json()})
    redis_client.xadd(stream, {"other": b"no event field"})
    Publisher().publish(TOPIC, Event(TYPE, 2))
    drain(worker, redis_client)
    assert seen == {2: 1}
    dead = cast(
        "list[tuple[bytes, dict[bytes, bytes]]]", redis_client.xrange(keys.dead_letter(TOPIC))
    )
    reasons = [fields[b"reason"].decode() for _, fields in dead]
    assert len(reasons) == 3
    assert reasons[0].startswith("malformed: not JSON")
    assert reasons[1] == "unknown type 'test.nobody-handles-this'"
    assert reasons[2].startswith("malformed")
    assert dead[0][1][b"event"] == b"{not json"
    assert {fields[b"group"] for _, fields in dead} == {worker.group.encode()}
    assert worker.counters["dead_lettered"] == 3
    assert redis_client.xpending(stream, worker.group)["pending"] == 0


def test_idle_consumers_holding_nothing_are_deleted_and_the_others_kept(
    redis_client: redis.Redis,
) -> None:
    worker = consumer("current", forget_idle_ms=0, forget_every=0)
    worker._ensure_group(redis_client)
    stream = keys.stream(TOPIC)
    publish(Publisher(), 0, 2)
    # "gone" read one and acknowledged it, then went away; "holding" holds the other.
    replies = cast(
        "list[list[Any]]", redis_client.xreadgroup(worker.group, "gone", {stream: ">"}, count=1)
    )
    redis_client.xack(stream, worker.group, replies[0][1][0][0])
    redis_client.xreadgroup(worker.group, "holding", {stream: ">"}, count=1)
    assert worker.forget_idle_consumers(redis_client) == ["gone"]
    names = {c["name"] for c in redis_client.xinfo_consumers(stream, worker.group)}
    assert names == {b"holding"}
    assert redis_client.xpending(stream, worker.group)["pending"] == 1


def test_a_consumer_that_stops_holding_nothing_leaves_its_group(
    redis_client: redis.Redis,
) -> None:
    worker = consumer("leaving")
    thread = threading.Thread(target=worker.run)
    thread.start()
    stream = keys.stream(TOPIC)
    # Once it has read, it is in the group; wait for that without sleeping blindly.
    for _ in range(500):
        if redis_client.exists(stream) and redis_client.xinfo_groups(stream):
            consumers = redis_client.xinfo_consumers(stream, worker.group)
            if consumers:
                break
        threading.Event().wait(0.01)
    worker.stop.set()
    thread.join(5)
    assert redis_client.xinfo_consumers(stream, worker.group) == []


def wait_until_blocked_in_a_read(client: redis.Redis) -> None:
    """Until a client waits in ``XREADGROUP … BLOCK`` on the test stream's server."""
    options: dict[str, Any] = {}
    if isinstance(client, RedisCluster):
        options["target_nodes"] = client.get_node_from_key(keys.stream(TOPIC))
    for _ in range(1000):
        listed = client.client_list(**options)
        if any(c["cmd"] == "xreadgroup" and "b" in c["flags"] for c in listed):
            return
        threading.Event().wait(0.01)
    raise AssertionError("no consumer blocked in a read")


def test_halt_leaves_a_blocked_read_behind_instead_of_waiting_it_out(
    redis_client: redis.Redis,
) -> None:
    worker = consumer("halted", block_ms=30_000, claim_every=3600)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    wait_until_blocked_in_a_read(redis_client)
    worker.halt()  # returns although the read blocks for 30 s more
    assert thread.is_alive()
    Publisher().publish(TOPIC, Event(TYPE, 1))  # the blocked read gets it, and stops
    thread.join(5)
    assert not thread.is_alive()
    assert worker.counters["events"] == 0
    # Read, not handled: pending, for another consumer to claim.
    assert redis_client.xpending(keys.stream(TOPIC), worker.group)["pending"] == 1


def test_halt_waits_for_the_delivery_in_hand_and_starts_no_other(
    handler: Callable[[Callable[[Event], None]], None], redis_client: redis.Redis
) -> None:
    started, finish = threading.Event(), threading.Event()
    runs: list[int] = []

    def slow(event: Event) -> None:
        runs.append(cast(int, event.user_id))
        started.set()
        assert finish.wait(10)

    registry.declare(TYPE)
    handler(slow)
    worker = consumer("busy", block_ms=50)
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    publish(Publisher(), 1, 2)
    assert started.wait(10)
    halter = threading.Thread(target=worker.halt)
    halter.start()
    halter.join(0.3)
    assert halter.is_alive()  # waiting for the handler of event 1
    finish.set()
    halter.join(5)
    assert not halter.is_alive()
    thread.join(5)
    assert runs == [1]  # event 2 came in the same read: left pending, not started
    pending = redis_client.xpending(keys.stream(TOPIC), worker.group)["pending"]
    assert pending == 1
