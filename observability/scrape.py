"""``GET /metrics``: Prometheus text, for staff or a scraper with ``METRICS_TOKEN``.

The counters are this process's, or, with ``PROMETHEUS_MULTIPROC_DIR`` set (gunicorn.conf.py
sets it), the sum of every worker's files there: current at scrape time whichever worker
answers. The stored figures (queues, streams, write-back) are read from Redis now.
"""

from __future__ import annotations

import hmac
import os
from collections.abc import Iterator

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from prometheus_client import CONTENT_TYPE_LATEST, REGISTRY, CollectorRegistry, generate_latest
from prometheus_client.metrics_core import Metric
from prometheus_client.multiprocess import MultiProcessCollector
from prometheus_client.registry import Collector

from observability.collectors import StoredFigures


def metrics(request: HttpRequest) -> HttpResponse:
    if not _may_scrape(request):
        return JsonResponse(
            {"detail": "Staff only, or send Authorization: Bearer <METRICS_TOKEN>."}, status=403
        )
    registry = CollectorRegistry()
    registry.register(_Scrape())
    return HttpResponse(generate_latest(registry), content_type=CONTENT_TYPE_LATEST)


class _Scrape(Collector):
    """The counters (this process's, or every worker's) and the stored figures."""

    def collect(self) -> Iterator[Metric]:
        if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):
            counted = CollectorRegistry()
            MultiProcessCollector(counted)
            yield from counted.collect()
        else:
            yield from REGISTRY.collect()
        yield from StoredFigures().collect()


def _may_scrape(request: HttpRequest) -> bool:
    token = settings.METRICS_TOKEN
    sent = request.headers.get("Authorization", "")
    if token and hmac.compare_digest(sent.encode(), f"Bearer {token}".encode()):
        return True
    user = getattr(request, "user", None)
    return bool(user is not None and user.is_active and user.is_staff)
