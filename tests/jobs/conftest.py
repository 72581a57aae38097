from __future__ import annotations

import django_rq
import pytest


@pytest.fixture(autouse=True)
def empty_task_queue() -> None:
    """The queue's Redis is the suite's (emptied before each test anyway), or on a Cluster
    the suite's own standalone server beside it (TASKS_REDIS_URL): emptied here."""
    django_rq.get_connection("default").flushdb()
