"""Retries and time limits per task: django-tasks-rq passes RQ neither, so the queue class
(``RQ["QUEUE_CLASS"]``) adds them to every job it creates.

Every task is retried ``DEFAULT_RETRIES`` times with exponential backoff (10 s doubling,
capped at 10 minutes), then lands in RQ's failed-job registry (the admin lists and requeues
it); ``@options(...)`` above ``@task()`` sets a task's own.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from typing import Any, TypeVar

from django.conf import settings
from django_rq.queues import DjangoRQ
from redis import Redis
from rq import Retry

DEFAULT_RETRIES = 5
T = TypeVar("T")

_options: dict[str, dict[str, Any]] = {}
_connections: dict[tuple[int, str, str], Redis] = {}


def backoff(retries: int, *, base: float = 10, cap: float = 600) -> list[int]:
    """``retries`` waits: base, 2·base, 4·base…, none above ``cap`` (RQ reuses the last;
    0 puts the job straight back in its queue)."""
    return [round(min(cap, base * 2**attempt)) for attempt in range(retries)]


def options(
    *,
    retries: int = DEFAULT_RETRIES,
    base: float = 10,
    cap: float = 600,
    timeout: int | None = None,
) -> Callable[[T], T]:
    """Retries (with backoff) and a time limit (seconds; RQ kills the job past it) for a task."""

    def register(task: T) -> T:
        chosen: dict[str, Any] = {
            "retry": Retry(max=retries, interval=backoff(retries, base=base, cap=cap))
            if retries
            else None
        }
        if timeout is not None:
            chosen["timeout"] = timeout
        _options[task.module_path] = chosen  # type: ignore[attr-defined]
        return task

    return register


class TaskQueue(DjangoRQ):
    def __init__(
        self, name: str = "default", connection: Redis | None = None, *args: Any, **kwargs: Any
    ):
        # django-rq makes a new client for every get_queue(), so every enqueue connected to
        # Redis afresh (a TCP handshake and two CLIENT SETINFO round trips, then a socket
        # left to close). One client per queue's settings and process instead; keyed by pid
        # too, so a forked job does not inherit the worker's, whose socket timeout RQ raises
        # above its blocking wait.
        if connection is not None:
            key = (os.getpid(), name, repr(settings.RQ_QUEUES.get(name)))
            connection = _connections.setdefault(key, connection)
        super().__init__(name, connection, *args, **kwargs)

    def create_job(self, func: Any, *args: Any, **kwargs: Any) -> Any:
        chosen = _options.get(func) if isinstance(func, str) else None
        if chosen is None:
            chosen = {"retry": Retry(max=DEFAULT_RETRIES, interval=backoff(DEFAULT_RETRIES))}
        for name, value in chosen.items():
            if kwargs.get(name) is None:
                kwargs[name] = value
        return super().create_job(func, *args, **kwargs)
