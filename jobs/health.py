"""What staff see of the task queue in ``/api/health/`` (``detail.tasks``)."""

from __future__ import annotations

import django_rq
from rq.registry import FailedJobRegistry, ScheduledJobRegistry, StartedJobRegistry

from jobs import relay
from project.web.views import health_detail


@health_detail("tasks")
def queue_figures() -> dict[str, int]:
    queue = django_rq.get_queue("default")
    return {
        "queued": queue.count,
        "running": StartedJobRegistry(queue=queue).count,
        "scheduled": ScheduledJobRegistry(queue=queue).count,
        "failed": FailedJobRegistry(queue=queue).count,
        "outbox": relay.backlog(),  # committed jobs not handed to the queue yet
    }
