"""What the listener and the stream consumer share: reconnect backoff, parsing an event
off the wire (skipping and counting what cannot be handled) and running its handlers
with fresh database connections (``close_old_connections``: the process lives long)."""

from __future__ import annotations

import logging
import random
from collections import Counter
from collections.abc import Callable, Collection

from django.db import close_old_connections

from project.events import registry
from project.events.envelope import Event

logger = logging.getLogger("project.events")


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


def handler_name(handle: Callable[..., object]) -> str:
    return f"{handle.__module__}.{handle.__qualname__}"


def dispatch(
    event: Event, counters: Counter[str], *, skip: Collection[str] = ()
) -> tuple[bool, list[str]]:
    """Run the handlers of ``event`` but those named in ``skip`` (they succeeded on an
    earlier delivery); whether they all succeeded, and the names of those that did."""
    succeeded: list[str] = []
    ok = True
    close_old_connections()
    try:
        for handle in registry.handlers_for(event.type):
            name = handler_name(handle)
            if name in skip:
                continue
            try:
                handle(event)
            except Exception:
                ok = False
                counters["handler_errors"] += 1
                logger.exception("handler %s failed on %s %s", name, event.type, event.id)
            else:
                succeeded.append(name)
    finally:
        close_old_connections()
    return ok, succeeded


def parse(raw: bytes | str, counters: Counter[str]) -> Event | None:
    """The event, or None (counted and logged) when no handler can take it."""
    return read(raw, counters)[0]


def read(raw: bytes | str, counters: Counter[str]) -> tuple[Event | None, str]:
    """The event and ``""``, or None and why no handler can take it (counted, logged)."""
    try:
        event = Event.from_json(raw)
    except ValueError as exc:
        counters["malformed"] += 1
        logger.warning("skipped a malformed event (%s): %.200r", exc, raw)
        return None, f"malformed: {exc}"
    if not registry.known(event.type):
        counters["unknown_type"] += 1
        logger.warning("skipped an event of unknown type %r (%s)", event.type, event.id)
        return None, f"unknown type {event.type!r}"
    return event, ""


def text(value: bytes | str) -> str:
    return value.decode() if isinstance(value, bytes) else value
