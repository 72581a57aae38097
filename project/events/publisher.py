"""Publishing: every event goes two ways in one pipelined round trip.

``PUBLISH`` on a prefixed pub/sub channel (at most once: fast, lost by a subscriber that is
away or too slow) and ``XADD`` to a prefixed Stream (at least once through a consumer
group, see ``project/events/consumer.py``), kept near EVENTS_STREAM_MAXLEN entries by
trimming only what every group has acknowledged (``lua/append.lua``): entries a group
still needs are trimmed only once it falls further behind than that, and are then counted
(``keys.lost``, ``stats["lost"]``) and logged. Publishing never fails the request: a
short timeout, a circuit breaker, and what could not be sent waits in a bounded in-process
outbox, sent before the next event and counted and logged if it overflows.
"""

from __future__ import annotations

import logging
import threading
from collections import Counter, deque
from typing import Any

from django.conf import settings
from django.db import transaction
from redis import RedisError
from redis.cluster import RedisCluster

from project.events import keys, scripts
from project.events.envelope import Event
from project.metrics import EVENTS
from project.redis.breaker import CircuitBreaker
from project.redis.client import get_client

logger = logging.getLogger("project.events")

OUTBOX_SIZE = 1000

stats: Counter[str] = Counter()  # published, deferred, dropped, ...


class Publisher:
    def __init__(self, *, breaker: CircuitBreaker | None = None) -> None:
        self.breaker = breaker or CircuitBreaker()
        self._outbox: deque[tuple[str, Event]] = deque()
        self._lock = threading.Lock()

    def publish(self, topic: str, event: Event) -> bool:
        """Send now (with whatever waited in the outbox); never raises."""
        with self._lock:
            self._outbox.append((topic, event))
            if len(self._outbox) > OUTBOX_SIZE:
                _, dropped = self._outbox.popleft()
                _count("dropped")
                logger.error("events: outbox full, dropped %s %s", dropped.type, dropped.id)
            if not self.breaker.allow():
                _count("deferred")
                return False
            batch = list(self._outbox)
            try:
                lost = self._send(batch)
            except RedisError as exc:
                self.breaker.failure()
                _count("deferred")
                logger.warning(
                    "events: Redis unavailable, %d event(s) wait in the outbox: %s",
                    len(self._outbox), exc,
                )  # fmt: skip
                return False
            self.breaker.success()
            self._outbox.clear()
            _account(len(batch), lost)
            return True

    def send(self, topic: str, event: Event) -> None:
        """Send one event now, beside the in-process outbox: for a caller that keeps the
        event itself until it is sent (the database outbox, ``jobs``). Raises RedisError."""
        _account(1, self._send([(topic, event)]))

    def _send(self, batch: list[tuple[str, Event]]) -> int:
        """PUBLISH and append each event, in one pipeline; the entries lost to trimming."""
        client = get_client()
        # A cluster pipeline refuses PUBLISH and EVALSHA: there it is one by one.
        pipe = client if isinstance(client, RedisCluster) else client.pipeline(False)
        replies: list[Any] = []
        for topic, event in batch:
            payload = event.to_json()
            replies.append(pipe.publish(keys.channel(topic), payload))
            replies.append(
                scripts.append(pipe, topic, payload, bound=settings.EVENTS_STREAM_MAXLEN)
            )
        if pipe is not client:
            replies = pipe.execute()
        return sum(int(reply[1]) for reply in replies[1::2])

    def pending(self) -> int:
        return len(self._outbox)


def _count(outcome: str, n: int = 1) -> None:
    stats[outcome] += n
    EVENTS.labels(outcome).inc(n)


def _account(published: int, lost: int) -> None:
    _count("published", published)
    if lost:
        _count("lost", lost)
        logger.error(
            "events: %d stream entries were trimmed before every consumer group handled "
            "them (a group fell more than EVENTS_STREAM_MAXLEN=%d behind)",
            lost, settings.EVENTS_STREAM_MAXLEN,
        )  # fmt: skip


publisher = Publisher()


def publish_on_commit(topic: str, event: Event, *, using: str | None = None) -> None:
    """Publish once the current transaction commits; nothing for a rollback."""
    transaction.on_commit(lambda: publisher.publish(topic, event), using=using)
