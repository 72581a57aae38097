"""The jobs app's own job: the outbox relay."""

from __future__ import annotations

from django_tasks import task

from jobs import relay, schedule


@schedule.every(5)
@task()
def relay_outbox() -> int:
    """Hand off the outbox jobs their committing process did not."""
    return relay.relay_left()
