"""The URLconf of bench/task_settings.py: the project's URLs and three views that update
one row in a transaction, plain, with ``enqueue_on_commit(noop)`` in that transaction, and
with ``noop.enqueue()`` after its commit. bench/tasks.py posts to them through the test
client and over HTTP; no authentication, so no CSRF token is needed."""

from __future__ import annotations

from collections.abc import Callable

from django.db import transaction
from django.urls import path
from django.utils import timezone
from rest_framework.decorators import (
    api_view,
    authentication_classes,
    permission_classes,
    throttle_classes,
)
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response

from bench.task_probes import noop
from jobs.models import Done
from jobs.services import enqueue_on_commit
from project import urls

# A row of a table nothing listens to (a user's update would also write its cache, and
# publish its event through the outbox: a second hand-off in the baseline). bench/tasks.py
# creates it.
ROW = "bench:tasks"


def write(enqueue: str) -> Response:
    with transaction.atomic():
        Done.objects.filter(key=ROW).update(at=timezone.now())
        if enqueue == "outbox":
            enqueue_on_commit(noop)
    if enqueue == "direct":  # RQ's part alone: no outbox row, not durable
        noop.enqueue()
    return Response({"ok": True})


def bench_view(enqueue: str) -> Callable[..., Response]:
    @api_view(["POST"])
    @authentication_classes([])
    @permission_classes([AllowAny])
    @throttle_classes([])
    def view(request: Request) -> Response:
        return write(enqueue)

    return view


urlpatterns = [
    path("bench/plain/", bench_view("")),
    path("bench/enqueue/", bench_view("outbox")),
    path("bench/direct/", bench_view("direct")),
    *urls.urlpatterns,
]
handler400, handler404, handler500 = urls.handler400, urls.handler404, urls.handler500
