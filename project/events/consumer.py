"""The stream consumer: at least once, through a consumer group.

Each delivery is claimed first (``claim.lua``: a lease, so the slow consumer an entry was
taken from and the one ``XAUTOCLAIM`` handed it to do not both run it), and settled in one
step (``settle.lua``: ``XACK``, the event marked handled, the claim dropped) only after
every handler succeeded; a failed delivery records the handlers that did succeed, so a
redelivery runs only the others. Entries no handler can take (malformed, of an unknown
type) and entries that failed ``max_deliveries`` times go to the dead letters with their
reason. What the consumer keeps beside the stream is bounded by the stream: a claim lives
while its entry is pending, a handled mark while its entry is in the stream (it skips a
second entry of the same event, published twice when a reply was lost), and consumers
that hold nothing and are idle are deleted from the group.

``BLOCK`` stays below the socket timeout, and the loop checks a stop flag between reads.
Run in a thread of its own, it stops at once by design (:meth:`halt`): the delivery in hand
is finished, none is started, and a read blocked in Redis is left behind; no signal
handler touches a socket or raises into a read.
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

from project.events import keys, scripts
from project.events.delivery import Backoff, dispatch, read, text
from project.metrics import EVENTS
from project.redis.client import dedicated_client, get_client

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
        lease_ms: int | None = None,
        max_deliveries: int = 5,
        forget_idle_ms: int = 3_600_000,
        forget_every: float = 60.0,
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
        # A claim outlives the idle time after which XAUTOCLAIM hands an entry on, so a
        # consumer still running it is not joined by a second one; a dead consumer's
        # entries are taken over once both have passed.
        self.lease_ms = 2 * claim_idle_ms if lease_ms is None else lease_ms
        self.max_deliveries = max_deliveries
        self.forget_idle_ms, self.forget_every = forget_idle_ms, forget_every
        self._last_claim = self._last_forget = float("-inf")
        self.backoff = backoff or Backoff()
        self.counters: Counter[str] = Counter()
        # Held while an entry is handled; halt() takes it for good.
        self._delivering = threading.Lock()

    def halt(self) -> None:
        """Stop a consumer running in another thread: wait for the delivery in hand (if
        any), and let it start no other. Entries a read blocked in Redis returns later stay
        pending and are claimed by another consumer (at least once)."""
        self.stop.set()
        self._delivering.acquire()

    def leave(self) -> None:
        """After :meth:`halt`: leave the group if this consumer holds nothing (best effort:
        a stalled Redis keeps it until the idle-consumer sweep)."""
        try:
            self._leave(get_client())
        except redis.RedisError as exc:
            logger.warning("stream consumer %s: could not leave its group: %s", self.consumer, exc)

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
                self._leave(client)
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

    def _leave(self, client: redis.Redis) -> None:
        """A consumer that stops holding nothing leaves the group (the next is host-pid)."""
        scripts.forget_consumers(
            client, self.topic, group=self.group, idle_ms=0, only=self.consumer
        )

    def step(self, client: redis.Redis) -> int:
        """Handle what is due: entries a dead consumer left (swept now and then), then new ones."""
        now = time.monotonic()
        if now - self._last_forget >= self.forget_every:
            self._last_forget = now
            self.forget_idle_consumers(client)
        claimed: list = []
        if now - self._last_claim >= self.claim_every:
            self._last_claim = now
            _, claimed, *trimmed = client.xautoclaim(
                self.stream, self.group, self.consumer, self.claim_idle_ms,
                start_id="0-0", count=50,
            )  # fmt: skip
            if trimmed and trimmed[0]:
                self._trimmed_while_pending(client, trimmed[0])
        handled = self._handle(client, claimed, claimed=True)
        # RESP2-shaped (redis-py's legacy responses): [[stream, [(id, fields), ...]], ...],
        # or None when the block times out; the stubs' union also has RESP3's dict shapes.
        replies = cast(
            "list[list[Any]] | None",
            client.xreadgroup(
                self.group, self.consumer, {self.stream: ">"}, count=50, block=self.block_ms
            ),
        )
        for _, entries in replies or []:
            handled += self._handle(client, entries, claimed=False)
        return handled

    def _handle(self, client: redis.Redis, entries: list, *, claimed: bool) -> int:
        """Deliver what a read returned, one entry at a time, until halted (the rest then
        stays pending)."""
        handled = 0
        for entry_id, fields in entries:
            # halt() sets the flag, then waits for the lock: a release does not hand the lock
            # to its waiter, so the flag is what stops the next entry.
            if self.stop.is_set() or not self._delivering.acquire(blocking=False):
                break
            try:
                if fields is not None:  # Redis 6.2 returns trimmed entries without fields
                    self._deliver(client, entry_id, fields, claimed=claimed)
            finally:
                self._delivering.release()
            handled += 1
        return handled

    def forget_idle_consumers(self, client: redis.Redis) -> list[str]:
        forgotten = scripts.forget_consumers(
            client, self.topic, group=self.group, idle_ms=self.forget_idle_ms
        )
        if forgotten:
            self.counters["consumers_forgotten"] += len(forgotten)
            logger.info("stream %s: deleted idle consumers %s", self.stream, ", ".join(forgotten))
        return forgotten

    def _trimmed_while_pending(self, client: redis.Redis, entry_ids: list[bytes]) -> None:
        """Entries read but not acknowledged that the stream lost (its group fell more than
        EVENTS_STREAM_MAXLEN behind; the publisher counted them in ``keys.lost``)."""
        client.hdel(keys.progress(self.topic), *(self._field(entry) for entry in entry_ids))
        self.counters["trimmed"] += len(entry_ids)
        logger.error(
            "stream %s: %d pending entries were trimmed before group %s handled them",
            self.stream, len(entry_ids), self.group,
        )  # fmt: skip

    def _field(self, entry_id: bytes | str) -> str:
        return f"{self.group}|{text(entry_id)}"

    def _deliver(
        self, client: redis.Redis, entry_id: bytes, fields: dict, *, claimed: bool
    ) -> None:
        raw = fields.get(b"event", b"")
        event, problem = read(raw, self.counters)
        field = self._field(entry_id)
        mark = f"{self.group}|{event.id}" if event else ""
        verdict, detail = scripts.claim(
            client, self.topic, field=field, mark=mark,
            consumer=self.consumer, lease_ms=self.lease_ms,
        )  # fmt: skip
        if verdict == "busy":  # another consumer is running it; it stays pending
            self.counters["busy"] += 1
            return
        settle = {"group": self.group, "entry_id": text(entry_id), "field": field, "raw": raw}
        if verdict == "handled":  # a second entry of an event handled already
            scripts.settle(client, self.topic, **settle, mark="", consumer=self.consumer)
            self.counters["duplicates"] += 1
            return
        if not problem and claimed and self._deliveries(client, entry_id) > self.max_deliveries:
            problem = f"failed {self.max_deliveries} deliveries"
        if problem or event is None:
            scripts.settle(
                client, self.topic, **settle, mark="", consumer=self.consumer, reason=problem
            )
            self.counters["dead_lettered"] += 1
            EVENTS.labels("dead_lettered").inc()
            logger.error("stream %s: %s dead-lettered (%s)", self.stream, text(entry_id), problem)
            return
        done = set(filter(None, detail.split(",")))
        ok, succeeded = dispatch(event, self.counters, skip=done)
        if ok:
            scripts.settle(client, self.topic, **settle, mark=mark, consumer=self.consumer)
            self.counters["events"] += 1
            EVENTS.labels("consumed").inc()
        else:  # stays pending: claimed again later, for the handlers that failed
            scripts.release(
                client, self.topic, field=field, consumer=self.consumer,
                done=sorted(done.union(succeeded)),
            )  # fmt: skip
            self.counters["failed_deliveries"] += 1
            EVENTS.labels("failed").inc()

    def _deliveries(self, client: redis.Redis, entry_id: bytes) -> int:
        pending = client.xpending_range(
            self.stream, self.group, min=entry_id, max=entry_id, count=1
        )
        return int(pending[0]["times_delivered"]) if pending else 0
