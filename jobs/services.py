"""Enqueueing durably after commit, and doing an effect once."""

from __future__ import annotations

from typing import Any

from django.db import transaction

from jobs import relay
from jobs.models import Done, OutboxJob
from project.events.envelope import Event


def enqueue_on_commit(task: Any, *args: Any, using: str | None = None, **kwargs: Any) -> None:
    """Enqueue ``task(*args, **kwargs)`` once the current transaction commits.

    The job is written to the outbox in the transaction itself, so it exists exactly when
    the commit does (a rollback takes it away); after the commit it is handed to the queue.
    If that fails (Redis down) or never happens (the process dies first), the relay hands it
    off later: at least once, so a job's effects are checked against the database (``once``).
    Never raises for Redis.
    """
    job = OutboxJob.objects.using(using).create(
        task=task.module_path, args=list(args), kwargs=kwargs
    )
    transaction.on_commit(lambda: relay.hand_off(job.pk, using=using), using=using)


def publish_on_commit(topic: str, event: Event, *, using: str | None = None) -> None:
    """Publish ``event`` once the current transaction commits, durably: written to the
    outbox in the transaction, published after the commit, relayed later if that failed
    or the process died first (an event is never lost with its process; consumers see
    it at least once)."""
    row = OutboxJob.objects.using(using).create(topic=topic, args=[event.to_json()])
    transaction.on_commit(lambda: relay.hand_off(row.pk, using=using), using=using)


def deliver_on_commit(sink: str, message: Any, *, using: str | None = None) -> None:
    """Hand ``message`` to the sink registered for ``sink`` (``relay.sinks``) once the
    current transaction commits, durably like :func:`publish_on_commit`; the sink receives
    the outbox row's id with it, to recognise a re-delivery."""
    row = OutboxJob.objects.using(using).create(topic=sink, args=[message])
    transaction.on_commit(lambda: relay.hand_off(row.pk, using=using), using=using)


def once(key: str) -> bool:
    """Inside the transaction that does an effect: True the first time ``key`` is claimed,
    False if a committed (or concurrent, then committed) transaction claimed it before."""
    _, created = Done.objects.get_or_create(key=key)
    return created
