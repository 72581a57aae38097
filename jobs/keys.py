"""Every key the jobs app keeps (on the task queue's Redis, beside RQ's own ``rq:*``)."""

from __future__ import annotations

from project.redis.keys import make_key

APP = "jobs"


def period(name: str, slot: int) -> str:
    """``{prefix}:jobs:period:<task>:<slot>``: the periodic task was enqueued for this slot."""
    return make_key(APP, "period", name, str(slot))
