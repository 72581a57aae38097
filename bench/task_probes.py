"""The tasks bench/tasks.py enqueues: importable by the worker (it runs in the project's
directory, so ``bench.task_probes`` imports there once Django is set up). They live apart
from bench/tasks.py because a task is validated against the settings when it is defined,
and that script defines them only after it has configured Django."""

from __future__ import annotations

import time

from django_tasks import task

from project.redis.client import get_client


@task()
def noop() -> None:
    """Nothing: what a job costs the queue and the worker, and no more."""


@task()
def stamp(key: str, enqueued_at: float) -> None:
    """Record ``enqueued_at`` and the time this job started (``time.time()``, one clock:
    the bench and the worker run on the same machine) in the list ``key``."""
    started = time.time()
    get_client().rpush(key, f"{enqueued_at!r} {started!r}")
