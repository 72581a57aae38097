"""Events: a versioned JSON envelope, published after commit, and a registry of handlers.

Every event goes two ways in one pipelined round trip: ``PUBLISH`` on a prefixed pub/sub
channel (at most once: fast, lost by a subscriber that is away or too slow) and ``XADD``
to a prefixed, capped Stream (at least once through a consumer group, see
``project/listener.py``). Publishing never fails the request: a short timeout, a circuit
breaker, and what could not be sent waits in a bounded in-process outbox, sent before the
next event and counted and logged if it overflows.

Envelope (``v`` 1)::

    {"v": 1, "id": "<uuid hex>", "type": "user.updated", "at": "<ISO 8601>",
     "user_id": 42, "data": {"changed": ["full_name"]}}
"""

from __future__ import annotations

import json
import logging
import threading
import uuid
from collections import Counter, deque
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from typing import Any

from django.conf import settings
from django.db import transaction
from django.utils import timezone
from redis import RedisError
from redis.cluster import RedisCluster

from caching.breaker import CircuitBreaker
from project.redis import get_client, make_key

logger = logging.getLogger("project.events")

VERSION = 1
OUTBOX_SIZE = 1000

stats: Counter[str] = Counter()  # published, deferred, dropped, ...


def channel(topic: str) -> str:
    """``{prefix}:events:<topic>``: pub/sub channels span DB numbers, so they are prefixed."""
    return make_key("events", topic)


def stream(topic: str) -> str:
    """``{prefix}:events:{<topic>}:stream``: permanent, capped near EVENTS_STREAM_MAXLEN."""
    return make_key("events", f"{{{topic}}}", "stream")


@dataclass(frozen=True)
class Event:
    type: str
    user_id: int | None
    data: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    at: str = field(default_factory=lambda: timezone.now().isoformat())
    v: int = VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, raw: bytes | str) -> Event:
        """Parse and check an envelope; ValueError says what is wrong with it."""
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"not JSON: {exc}") from None
        if not isinstance(body, dict):
            raise ValueError("not an object")
        if body.get("v") != VERSION:
            raise ValueError(f"unknown envelope version {body.get('v')!r}")
        checks = {
            "id": isinstance(body.get("id"), str) and body["id"],
            "type": isinstance(body.get("type"), str) and body["type"],
            "at": isinstance(body.get("at"), str),
            "user_id": body.get("user_id") is None or type(body.get("user_id")) is int,
            "data": isinstance(body.get("data"), dict),
        }
        wrong = [name for name, ok in checks.items() if not ok]
        if wrong:
            raise ValueError(f"bad fields: {', '.join(wrong)}")
        return cls(**{name: body[name] for name in ("type", "user_id", "data", "id", "at", "v")})


# --- Handlers -------------------------------------------------------------------------

Handler = Callable[[Event], None]
_handlers: dict[str, list[Handler]] = {}
_types: set[str] = set()
ALL = "*"


def declare(*event_types: str) -> None:
    """Make event types known: listeners skip (and count) events of any other type."""
    _types.update(event_types)


def handler(event_type: str) -> Callable[[Handler], Handler]:
    """Register a handler for an event type (``"*"`` for all), e.g. in AppConfig.ready()."""

    def register(function: Handler) -> Handler:
        if function not in _handlers.setdefault(event_type, []):
            _handlers[event_type].append(function)
        return function

    return register


def unregister(event_type: str, function: Handler) -> None:
    if function in _handlers.get(event_type, []):
        _handlers[event_type].remove(function)


def handlers_for(event_type: str) -> list[Handler]:
    return [*_handlers.get(event_type, []), *_handlers.get(ALL, [])]


def known(event_type: str) -> bool:
    return event_type in _types or event_type in _handlers


@handler(ALL)
def log_event(event: Event) -> None:
    """The default handler: one line per event."""
    logger.info("event %s user=%s id=%s", event.type, event.user_id, event.id)


# --- Publishing -----------------------------------------------------------------------


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
                _, lost = self._outbox.popleft()
                stats["dropped"] += 1
                logger.error("events: outbox full, dropped %s %s", lost.type, lost.id)
            if not self.breaker.allow():
                stats["deferred"] += 1
                return False
            batch = list(self._outbox)
            try:
                client = get_client()
                # One round trip; a cluster pipeline refuses PUBLISH, so there it is per event.
                pipe = client if isinstance(client, RedisCluster) else client.pipeline(False)
                for queued_topic, queued in batch:
                    payload = queued.to_json()
                    pipe.publish(channel(queued_topic), payload)
                    pipe.xadd(
                        stream(queued_topic), {"event": payload},
                        maxlen=settings.EVENTS_STREAM_MAXLEN, approximate=True,
                    )  # fmt: skip
                if pipe is not client:
                    pipe.execute()
            except RedisError as exc:
                self.breaker.failure()
                stats["deferred"] += 1
                logger.warning(
                    "events: Redis unavailable, %d event(s) wait in the outbox: %s",
                    len(self._outbox), exc,
                )  # fmt: skip
                return False
            self.breaker.success()
            self._outbox.clear()
            stats["published"] += len(batch)
            return True

    def pending(self) -> int:
        return len(self._outbox)


publisher = Publisher()


def publish_on_commit(topic: str, event: Event, *, using: str | None = None) -> None:
    """Publish once the current transaction commits; nothing for a rollback."""
    transaction.on_commit(lambda: publisher.publish(topic, event), using=using)
