"""The long-running side of events: a pub/sub listener and a stream consumer.

Both loop on calls with a finite timeout and check a stop flag in between, so SIGTERM or
Ctrl-C ends them within about a second (a bare ``pubsub.listen()`` blocks in ``recv``).
Both reconnect with jittered exponential backoff, skip and count what they cannot handle,
and close stale database connections around each event (``close_old_connections``).

**Pub/sub is at most once.** A reconnect, or the server cutting off a slow subscriber,
loses messages without an exception; the only trace is a new ``subscribe``
confirmation. So every confirmation calls ``on_resync``: the place to reload state from
the source of truth. A connection that hangs without closing is caught by our own
PING/PONG watchdog (redis-py's health check never notices an unanswered PING).

**The stream is at least once**: a consumer group, ``XACK`` only after every handler
succeeded, ``XAUTOCLAIM`` of entries a dead consumer left pending, a dead-letter stream
after ``max_deliveries`` failed deliveries, and a processed-id mark so that a redelivered
event runs its handlers once.
"""

from __future__ import annotations

import logging
import os
import random
import secrets
import socket
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any, cast

import redis
from django.db import close_old_connections

from project import events
from project.events import Event
from project.redis import dedicated_client, make_key

logger = logging.getLogger("project.listener")


class WatchdogTimeoutError(redis.ConnectionError):
    """The server did not answer our PING in time: treat the connection as dead."""


class Backoff:
    """Full-jitter exponential backoff: sleep a random time up to base·2^n, capped."""

    def __init__(self, base: float = 0.1, cap: float = 5.0) -> None:
        self.base, self.cap, self.failures = base, cap, 0

    def next_delay(self) -> float:
        delay = random.uniform(0, min(self.cap, self.base * 2**self.failures))
        self.failures += 1
        return delay

    def reset(self) -> None:
        self.failures = 0


def dispatch(event: Event, counters: Counter[str]) -> bool:
    """Run the handlers of ``event``; True if they all succeeded."""
    ok = True
    close_old_connections()
    try:
        for handle in events.handlers_for(event.type):
            try:
                handle(event)
            except Exception:
                ok = False
                counters["handler_errors"] += 1
                logger.exception(
                    "handler %s failed on %s %s", handle.__name__, event.type, event.id
                )
    finally:
        close_old_connections()
    return ok


def parse(raw: bytes | str, counters: Counter[str]) -> Event | None:
    try:
        event = Event.from_json(raw)
    except ValueError as exc:
        counters["malformed"] += 1
        logger.warning("skipped a malformed event (%s): %.200r", exc, raw)
        return None
    if not events.known(event.type):
        counters["unknown_type"] += 1
        logger.warning("skipped an event of unknown type %r (%s)", event.type, event.id)
        return None
    return event


class Listener:
    """Subscribe to topics' channels and dispatch each event to its handlers."""

    def __init__(
        self,
        topics: Sequence[str],
        *,
        stop: threading.Event | None = None,
        on_resync: Callable[[], None] = lambda: None,
        ping_interval: float = 5.0,
        pong_timeout: float = 2.0,
        poll: float = 0.5,
        backoff: Backoff | None = None,
    ) -> None:
        self.channels = [events.channel(topic) for topic in topics]
        self.stop = stop or threading.Event()
        self.on_resync = on_resync
        self.ping_interval, self.pong_timeout, self.poll = ping_interval, pong_timeout, poll
        self.backoff = backoff or Backoff()
        self.counters: Counter[str] = Counter()
        self.subscribed = threading.Event()  # set while subscribed (tests wait on it)

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                self._session()
            except (redis.RedisError, OSError) as exc:
                self.subscribed.clear()
                self.counters["reconnects"] += 1
                delay = self.backoff.next_delay()
                logger.warning("listener: %s; reconnecting in %.2fs", exc, delay)
                self.stop.wait(delay)
        logger.info("listener: stopped")

    def _session(self) -> None:
        client = dedicated_client(socket_timeout=self.ping_interval + self.pong_timeout)
        pubsub = client.pubsub()
        try:
            pubsub.subscribe(*self.channels)
            last_heard = time.monotonic()
            awaiting: tuple[str, float] | None = None  # (token, sent at)
            while not self.stop.is_set():
                message = pubsub.get_message(timeout=self.poll)
                now = time.monotonic()
                if message is not None:
                    last_heard = now
                    if (
                        message["type"] == "pong"
                        and awaiting
                        and _text(message["data"]) == awaiting[0]
                    ):
                        awaiting = None
                    else:
                        self._handle(message)
                if awaiting and now - awaiting[1] > self.pong_timeout:
                    raise WatchdogTimeoutError(f"no PONG within {self.pong_timeout}s")
                if awaiting is None and now - last_heard > self.ping_interval:
                    token = secrets.token_hex(4)
                    pubsub.ping(token)
                    awaiting = (token, now)
        finally:
            self.subscribed.clear()
            pubsub.close()
            client.close()

    def _handle(self, message: dict[str, Any]) -> None:
        kind = message["type"]
        if kind == "subscribe":
            # New or renewed subscription: anything published meanwhile is gone.
            self.backoff.reset()
            self.counters["subscriptions"] += 1
            logger.info("listener: subscribed to %s; resyncing", _text(message["channel"]))
            self.subscribed.set()
            try:
                self.on_resync()
            except Exception:
                self.counters["resync_errors"] += 1
                logger.exception("listener: resync hook failed")
            return
        if kind != "message":
            return
        event = parse(message["data"], self.counters)
        if event is not None:
            self.counters["events"] += 1
            dispatch(event, self.counters)


class StreamConsumer:
    """Read a topic's stream through a consumer group, at least once."""

    def __init__(
        self,
        topic: str,
        *,
        group: str = "listeners",
        consumer: str | None = None,
        stop: threading.Event | None = None,
        block_ms: int = 1000,
        claim_idle_ms: int = 30_000,
        claim_every: float = 1.0,
        max_deliveries: int = 5,
        backoff: Backoff | None = None,
    ) -> None:
        self.topic = topic
        self.stream = events.stream(topic)
        self.dead_letter = make_key("events", f"{{{topic}}}", "dead")
        self.group = group
        # Unique per process, stable for its life; pass one to resume a known consumer.
        self.consumer = consumer or f"{socket.gethostname()}-{os.getpid()}"
        self.stop = stop or threading.Event()
        self.block_ms, self.claim_idle_ms = block_ms, claim_idle_ms
        self.claim_every = claim_every  # seconds between XAUTOCLAIM sweeps
        self._last_claim = float("-inf")
        self.max_deliveries = max_deliveries
        self.backoff = backoff or Backoff()
        self.counters: Counter[str] = Counter()

    def done_key(self, event_id: str) -> str:
        """Marks an event handled (7 days): a redelivery after a lost XACK is skipped."""
        return make_key("events", f"{{{self.topic}}}", "done", event_id)

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                # BLOCK stays well below the socket timeout: no timeout mid-wait.
                client = dedicated_client(socket_timeout=self.block_ms / 1000 + 5)
                self._ensure_group(client)
                logger.info(
                    "stream consumer %s: reading %s in group %s",
                    self.consumer, self.stream, self.group,
                )  # fmt: skip
                while not self.stop.is_set():
                    self.step(client)
                    self.backoff.reset()
            except (redis.RedisError, OSError) as exc:
                self.counters["reconnects"] += 1
                delay = self.backoff.next_delay()
                logger.warning("stream consumer: %s; reconnecting in %.2fs", exc, delay)
                self.stop.wait(delay)
        logger.info("stream consumer %s: stopped", self.consumer)

    def _ensure_group(self, client: redis.Redis) -> None:
        try:
            client.xgroup_create(self.stream, self.group, id="0", mkstream=True)
        except redis.ResponseError as exc:
            if "BUSYGROUP" not in str(exc):
                raise

    def step(self, client: redis.Redis) -> int:
        """Handle what is due: entries a dead consumer left (swept now and then), then new ones."""
        claimed: list = []
        if time.monotonic() - self._last_claim >= self.claim_every:
            self._last_claim = time.monotonic()
            _, claimed, *_ = client.xautoclaim(
                self.stream, self.group, self.consumer, self.claim_idle_ms,
                start_id="0-0", count=50,
            )  # fmt: skip
        for entry_id, fields in claimed:
            if fields is not None:  # None: trimmed from the stream meanwhile
                self._deliver(client, entry_id, fields, claimed=True)
        # RESP2-shaped (redis-py's legacy responses): [[stream, [(id, fields), ...]], ...],
        # or None when the block times out; the stubs' union also has RESP3's dict shapes.
        replies = cast(
            "list[list[Any]] | None",
            client.xreadgroup(
                self.group, self.consumer, {self.stream: ">"}, count=50, block=self.block_ms
            ),
        )
        handled = len(claimed)
        for _, entries in replies or []:
            for entry_id, fields in entries:
                self._deliver(client, entry_id, fields, claimed=False)
                handled += 1
        return handled

    def _deliver(
        self, client: redis.Redis, entry_id: bytes, fields: dict, *, claimed: bool
    ) -> None:
        if claimed and self._deliveries(client, entry_id) > self.max_deliveries:
            client.xadd(self.dead_letter, {**fields, "source_id": entry_id}, maxlen=10_000)
            client.xack(self.stream, self.group, entry_id)
            self.counters["dead_lettered"] += 1
            logger.error(
                "stream: %s dead-lettered after %d deliveries", entry_id, self.max_deliveries
            )
            return
        event = parse(fields.get(b"event", b""), self.counters)
        if event is None:  # malformed or unknown: retrying will not help
            client.xack(self.stream, self.group, entry_id)
            return
        if client.exists(self.done_key(event.id)):  # handled before its XACK was lost
            client.xack(self.stream, self.group, entry_id)
            self.counters["duplicates"] += 1
            return
        if dispatch(event, self.counters):
            pipe = client.pipeline(transaction=False)
            pipe.set(self.done_key(event.id), 1, ex=7 * 24 * 3600)
            pipe.xack(self.stream, self.group, entry_id)
            pipe.execute()
            self.counters["events"] += 1
        else:
            self.counters["failed_deliveries"] += 1  # stays pending; claimed again later

    def _deliveries(self, client: redis.Redis, entry_id: bytes) -> int:
        pending = client.xpending_range(
            self.stream, self.group, min=entry_id, max=entry_id, count=1
        )
        return int(pending[0]["times_delivered"]) if pending else 0


def _text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
