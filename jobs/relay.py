"""Handing outbox jobs to the queue: right after their commit, and later for those left."""

from __future__ import annotations

import logging
import uuid
from collections.abc import Callable
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.utils import timezone
from django.utils.module_loading import import_string
from redis import RedisError

from jobs.models import OutboxJob
from project.events.envelope import Event
from project.events.publisher import publisher
from project.redis.breaker import CircuitBreaker

logger = logging.getLogger("jobs")

LEFT_AFTER = timedelta(seconds=5)  # a job still in the outbox this long was not handed off
# After a refused hand-off, the next ones in this process wait in the outbox for 2 s
# instead of each waiting out a timeout of a stalled Redis in its request.
breaker = CircuitBreaker()
# Topics delivered by a function of their own instead of the events publisher: topic →
# sink(outbox id, *args), which raises RedisError to keep the row (an app registers its own).
sinks: dict[str, Callable[..., Any]] = {}


def hand_off(job_id: uuid.UUID, *, using: str | None = None) -> bool:
    """Enqueue (or publish) one outbox job and delete it; False if it is gone (handed off by
    another process) or Redis refused it (it stays, for the relay)."""
    with transaction.atomic(using=using):
        # Locked while it is enqueued: two relays do not both hand it off (PostgreSQL).
        job = (
            OutboxJob.objects.using(using)
            .select_for_update(skip_locked=True)
            .filter(pk=job_id)
            .first()
        )
        if job is None or not breaker.allow():
            return False
        try:
            if job.topic in sinks:
                sinks[job.topic](str(job.pk), *job.args)
            elif job.topic:
                publisher.send(job.topic, Event.from_json(job.args[0]))
            else:
                import_string(job.task).enqueue(*job.args, **job.kwargs)
        except RedisError as exc:
            breaker.failure()
            job.attempts += 1
            job.last_error = f"{type(exc).__name__}: {exc}"[:1000]
            job.save(update_fields=["attempts", "last_error"])
            logger.warning("jobs: %s stays in the outbox, Redis refused it: %s", job, exc)
            return False
        job.delete()
    breaker.success()
    return True


def relay_left(*, older_than: timedelta = LEFT_AFTER, limit: int = 500) -> int:
    """Hand off what the committing processes did not; the number handed off."""
    before = timezone.now() - older_than
    ids = list(OutboxJob.objects.filter(created_at__lt=before).values_list("pk", flat=True)[:limit])
    handed = sum(hand_off(job_id) for job_id in ids)
    if handed:
        logger.info("jobs: relayed %d job(s) left in the outbox", handed)
    return handed


def backlog() -> int:
    return OutboxJob.objects.count()
