"""System checks of the task queue's settings."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks


@checks.register(checks.Tags.compatibility)
def queue_beside_a_cluster(**kwargs: Any) -> list[checks.CheckMessage]:
    if settings.REDIS_TOPOLOGY.kind == "cluster" and not settings.TASKS_REDIS_URL:
        return [
            checks.Warning(
                "REDIS_URL is a Redis Cluster, where RQ cannot run, and TASKS_REDIS_URL is "
                "unset: the task queue is on the project's local redis-server.",
                hint="Set TASKS_REDIS_URL to a standalone or Sentinel Redis for the queue.",
                id="jobs.W001",
            )
        ]
    return []
