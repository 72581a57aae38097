"""The listener and the stream consumer against the real Redis: delivery, restarts,
garbage, signals, dead consumers and poison events."""

from __future__ import annotations

import os
import queue
import signal
import subprocess
import sys
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import cast

import pytest
import redis
from django.test import override_settings

from project.events import keys as event_keys
from project.events import registry
from project.events.consumer import StreamConsumer
from project.events.delivery import Backoff
from project.events.envelope import Event
from project.events.listener import Listener
from project.events.publisher import Publisher
from project.redis.local import BASE_DIR, LocalRedis
from tests.own_redis import SnapshotRedis

pytestmark = pytest.mark.redis

TYPE = "test.ping"


@pytest.fixture
def received() -> Iterator[queue.Queue[Event]]:
    """Events of type test.ping, as a registered handler sees them."""
    inbox: queue.Queue[Event] = queue.Queue()
    registry.declare(TYPE)
    registry.handler(TYPE)(inbox.put)
    yield inbox
    registry.unregister(TYPE, inbox.put)


def start(worker: Listener | StreamConsumer) -> threading.Thread:
    thread = threading.Thread(target=worker.run, daemon=True)
    thread.start()
    return thread


def stop(worker: Listener | StreamConsumer, thread: threading.Thread) -> None:
    worker.stop.set()
    thread.join(timeout=5)
    assert not thread.is_alive()


def test_an_event_reaches_a_listener_in_another_thread(received: queue.Queue[Event]) -> None:
    listener = Listener(["tests"])
    thread = start(listener)
    assert listener.subscribed.wait(timeout=5)
    event = Event(TYPE, 1, {"n": 1})
    Publisher().publish("tests", event)
    assert received.get(timeout=5) == event
    stop(listener, thread)


def test_garbage_is_skipped_and_counted_and_the_listener_lives_on(
    received: queue.Queue[Event], redis_client: redis.Redis
) -> None:
    def broken(event: Event) -> None:
        raise RuntimeError("handler bug")

    registry.handler("test.broken")(broken)
    listener = Listener(["tests"])
    thread = start(listener)
    assert listener.subscribed.wait(timeout=5)
    channel = event_keys.channel("tests")
    redis_client.publish(channel, b"\xff\xfe not json")
    redis_client.publish(channel, b'{"v": 1, "type": "test.ping"}')  # wrong schema
    redis_client.publish(channel, Event("test.nobody-knows", 1).to_json())
    redis_client.publish(channel, Event("test.broken", 1).to_json())
    good = Event(TYPE, 2)
    redis_client.publish(channel, good.to_json())
    assert received.get(timeout=5) == good
    registry.unregister("test.broken", broken)
    stop(listener, thread)
    assert listener.counters["malformed"] == 2
    assert listener.counters["unknown_type"] == 1
    assert listener.counters["handler_errors"] == 1


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[LocalRedis]:
    server = LocalRedis(tmp_path / "redis", persistent=False)
    server.ensure_running()
    caches = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": server.url,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.25, "SOCKET_TIMEOUT": 0.25},
        }
    }
    with override_settings(REDIS_URL=server.url, CACHES=caches):
        yield server
    server.stop()


def test_redis_restarted_while_listening(
    own_redis: LocalRedis, received: queue.Queue[Event]
) -> None:
    resyncs: queue.Queue[int] = queue.Queue()
    listener = Listener(
        ["tests"], on_resync=lambda: resyncs.put(1), backoff=Backoff(base=0.05, cap=0.2)
    )
    thread = start(listener)
    assert resyncs.get(timeout=5)
    own_redis.stop()
    own_redis.ensure_running()
    assert resyncs.get(timeout=10)  # resubscribed, and told to resync
    assert listener.counters["reconnects"] >= 1
    event = Event(TYPE, 3)
    Publisher().publish("tests", event)
    assert received.get(timeout=5) == event
    stop(listener, thread)


def test_a_hung_connection_is_caught_by_the_watchdog(
    own_redis: LocalRedis, received: queue.Queue[Event]
) -> None:
    resyncs: queue.Queue[int] = queue.Queue()
    listener = Listener(
        ["tests"], on_resync=lambda: resyncs.put(1), ping_interval=0.2, pong_timeout=0.3,
        poll=0.05, backoff=Backoff(base=0.05, cap=0.2),
    )  # fmt: skip
    thread = start(listener)
    assert resyncs.get(timeout=5)
    admin = redis.Redis(unix_socket_path=str(own_redis.socket_path))
    admin.execute_command("CLIENT", "PAUSE", 1500, "ALL")  # the server stops answering
    assert resyncs.get(timeout=10)  # PONG never came: reconnected and resubscribed
    assert listener.counters["reconnects"] >= 1
    stop(listener, thread)


@pytest.mark.parametrize("mode", [[], ["--stream"]])
def test_sigterm_stops_listen_events_within_two_seconds(mode: list[str]) -> None:
    process = subprocess.Popen(
        [sys.executable, "manage.py", "listen_events", "--topic", "tests", *mode],
        cwd=BASE_DIR, env={**os.environ, "LOG_LEVEL": "INFO"},
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    guard = threading.Timer(20, process.kill)  # a hang fails the test, never the suite
    guard.start()
    try:
        assert process.stdout is not None
        for line in process.stdout:  # wait until it is working
            if "subscribed to" in line or "reading" in line:
                break
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=2) == 0
    finally:
        guard.cancel()
        process.kill()


@pytest.mark.parametrize("mode", [[], ["--stream"]])
def test_sigterm_stops_listen_events_promptly_while_redis_stalls(
    mode: list[str], snapshot_server: SnapshotRedis
) -> None:
    """Redis frozen (SIGSTOP): the read in progress hangs until its socket timeout; the
    listener polls every half second, and the stream consumer's main thread does not wait
    for its reading thread (``StreamConsumer.halt``)."""
    process = subprocess.Popen(
        [sys.executable, "manage.py", "listen_events", "--topic", "tests", *mode],
        cwd=BASE_DIR, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env={**os.environ, "LOG_LEVEL": "INFO", "REDIS_URL": snapshot_server.server.url},
    )  # fmt: skip
    redis_pid = int((snapshot_server.server.directory / "redis.pid").read_text())
    guard = threading.Timer(20, process.kill)
    guard.start()
    try:
        assert process.stdout is not None
        for line in process.stdout:
            if "subscribed to" in line or "reading" in line:
                break
        os.kill(redis_pid, signal.SIGSTOP)
        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=3) == 0
    finally:
        os.kill(redis_pid, signal.SIGCONT)
        guard.cancel()
        process.kill()


# --- Stream --------------------------------------------------------------------------


# Handlers run in this thread here: close_old_connections() needs a real (non-atomic)
# database connection, as in production.
@pytest.mark.django_db(transaction=True)
def test_an_entry_left_by_a_dead_consumer_is_handled_by_another(
    received: queue.Queue[Event], redis_client: redis.Redis
) -> None:
    survivor = StreamConsumer(
        "tests", consumer="survivor", claim_idle_ms=0, claim_every=0, block_ms=10
    )
    survivor._ensure_group(redis_client)
    event = Event(TYPE, 4)
    Publisher().publish("tests", event)
    # "doomed" reads the entry, then dies before XACK.
    redis_client.xreadgroup(survivor.group, "doomed", {survivor.stream: ">"}, count=10)
    assert redis_client.xpending(survivor.stream, survivor.group)["pending"] == 1
    survivor.step(redis_client)
    assert received.get(timeout=1) == event
    assert redis_client.xpending(survivor.stream, survivor.group)["pending"] == 0


@pytest.mark.django_db(transaction=True)
def test_a_poison_event_ends_in_the_dead_letter_stream(redis_client: redis.Redis) -> None:
    def always_fails(event: Event) -> None:
        raise RuntimeError("poison")

    registry.handler("test.poison")(always_fails)
    consumer = StreamConsumer(
        "tests", consumer="c", claim_idle_ms=0, claim_every=0, block_ms=10, max_deliveries=3
    )
    consumer._ensure_group(redis_client)
    event = Event("test.poison", 6)
    Publisher().publish("tests", event)
    try:
        for _ in range(10):
            consumer.step(redis_client)
            if redis_client.xlen(consumer.dead_letter):
                break
    finally:
        registry.unregister("test.poison", always_fails)
    assert consumer.counters["failed_deliveries"] == 3
    # (id, fields) pairs, bytes throughout: no decode_responses.
    dead = cast("list[tuple[bytes, dict[bytes, bytes]]]", redis_client.xrange(consumer.dead_letter))
    assert [Event.from_json(fields[b"event"]) for _, fields in dead] == [event]
    assert redis_client.xpending(consumer.stream, consumer.group)["pending"] == 0


def test_the_stream_consumer_reads_new_events_in_its_loop(received: queue.Queue[Event]) -> None:
    consumer = StreamConsumer("tests", consumer="loop", block_ms=50)
    thread = start(consumer)
    event = Event(TYPE, 7)
    Publisher().publish("tests", event)
    assert received.get(timeout=5) == event
    stop(consumer, thread)
