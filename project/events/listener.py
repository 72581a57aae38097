"""The pub/sub listener: at most once, resynced on every (re)subscription.

It loops on ``get_message`` with a finite timeout and checks a stop flag in between, so
SIGTERM or Ctrl-C ends it within about a second (a bare ``pubsub.listen()`` blocks in
``recv``). It reconnects with jittered exponential backoff.

**Pub/sub is at most once.** A reconnect, or the server cutting off a slow subscriber,
loses messages without an exception; the only trace is a new ``subscribe``
confirmation. So every confirmation calls ``on_resync``: the place to reload state from
the source of truth. A connection that hangs without closing is caught by our own
PING/PONG watchdog (redis-py's health check never notices an unanswered PING).
"""

from __future__ import annotations

import logging
import secrets
import threading
import time
from collections import Counter
from collections.abc import Callable, Sequence
from typing import Any

import redis

from project.events import keys
from project.events.delivery import Backoff, dispatch, parse, text
from project.redis.client import dedicated_client

logger = logging.getLogger("project.events")


class WatchdogTimeoutError(redis.ConnectionError):
    """The server did not answer our PING in time: treat the connection as dead."""


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
        self.channels = [keys.channel(topic) for topic in topics]
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
                        and text(message["data"]) == awaiting[0]
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
            logger.info("listener: subscribed to %s; resyncing", text(message["channel"]))
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
