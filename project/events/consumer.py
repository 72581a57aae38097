"""The stream consumer: at least once, through a consumer group.

``XACK`` only after every handler succeeded, ``XAUTOCLAIM`` of entries a dead consumer left
pending, a dead-letter stream after ``max_deliveries`` failed deliveries, and a
processed-id mark so that a redelivered event runs its handlers once. ``BLOCK`` stays well
below the socket timeout, and the loop checks a stop flag between reads.
"""

from __future__ import annotations

import logging
import os
import socket
import threading
import time
from collections import Counter
from typing import Any, cast

import redis

from project.events import keys
from project.events.delivery import Backoff, dispatch, parse
from project.redis.client import dedicated_client

logger = logging.getLogger("project.events")


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
        self.stream = keys.stream(topic)
        self.dead_letter = keys.dead_letter(topic)
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
        return keys.done(self.topic, event_id)

    def run(self) -> None:
        while not self.stop.is_set():
            try:
                # BLOCK plus a margin: no timeout mid-wait from a healthy server, and a
                # stalled one holds a read (hence SIGTERM) at most BLOCK + 1 s.
                client = dedicated_client(socket_timeout=self.block_ms / 1000 + 1)
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
