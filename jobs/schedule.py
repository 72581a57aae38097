"""Periodic tasks, enqueued once per period however many workers run.

Each worker's scheduler loop asks every second which periodic tasks are due; a task is due
once per slot (``floor(now / period)``), and the slot is taken with ``SET NX`` on the queue's
Redis, so of N workers exactly one enqueues it. (RQ's own cron scheduler has no such lock:
two of them enqueue everything twice.)
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from django.conf import settings
from redis import Redis, RedisError

from jobs import keys

logger = logging.getLogger("jobs")
T = TypeVar("T")


@dataclass(frozen=True)
class Periodic:
    task: Any  # a django-tasks Task
    period: str | int  # seconds, or the name of the setting that holds them

    def seconds(self) -> int:
        value = getattr(settings, self.period) if isinstance(self.period, str) else self.period
        return max(1, int(value))


PERIODIC: list[Periodic] = []


def every(period: str | int) -> Callable[[T], T]:
    """Run a task (with no arguments) every ``period`` seconds, or every ``settings.<period>``."""

    def register(task: T) -> T:
        PERIODIC.append(Periodic(task, period))
        return task

    return register


def enqueue_due(client: Redis, *, now: float | None = None) -> list[str]:
    """Enqueue the periodic tasks whose slot no worker has taken; their names. ``client``:
    the queue's Redis (``django_rq.get_connection``, made once per worker)."""
    now = time.time() if now is None else now
    enqueued = []
    for periodic in PERIODIC:
        seconds = periodic.seconds()
        name = periodic.task.module_path
        slot_key = keys.period(name, int(now // seconds))
        try:
            if not client.set(slot_key, 1, nx=True, ex=seconds * 2 + 1):
                continue
            try:
                periodic.task.enqueue()
            except RedisError:
                client.delete(slot_key)  # give the slot back: the next loop tries again
                raise
        except RedisError as exc:
            logger.warning("jobs: could not enqueue %s: %s", name, exc)
            continue
        enqueued.append(name)
    return enqueued
