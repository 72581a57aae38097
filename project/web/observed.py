"""Every response counted (``project.metrics``), and the counts over time in Redis.

:class:`MetricsMiddleware` counts each response by route, method and status and times it.
After a response, at most every ``FLUSH_SECONDS`` (2), the process adds what its counters gained
since its last flush to the current time bucket: one Redis hash per ``BUCKET_SECONDS``,
``{prefix}:metrics:series:<bucket>``, a field per counted thing, expiring after ``KEEP``
buckets. Every process adds its own, so a bucket holds the sum of all of them, on every
host; the admin's Redis dashboard reads the last buckets back (:func:`read`). One round
trip per process every few seconds, with a request; a process that goes idle adds its last
seconds with its next response (or never, if it exits first).
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Awaitable, Callable
from typing import Any

from asgiref.sync import iscoroutinefunction, markcoroutinefunction, sync_to_async
from django.http import HttpRequest, HttpResponseBase
from redis import Redis, RedisError

from project.metrics import CHARTED, LATENCY, REQUESTS
from project.redis.client import get_client
from project.redis.keys import make_key

logger = logging.getLogger("project.metrics")

BUCKET_SECONDS = 10
KEEP = 360  # buckets: an hour
FLUSH_SECONDS = 2.0


def series_key(bucket: int) -> str:
    return make_key("metrics", "series", bucket)


def field(family: str, labels: dict[str, str]) -> str | None:
    """The series field of one counter sample: ``cache|hit``, ``http|4xx``,
    ``throttle|anon|refused``; None for what is not charted."""
    if family == "http":  # the status class: the routes are for /metrics
        return f"http|{labels['status'][0]}xx"
    return "|".join([family, *labels.values()])


def totals() -> dict[str, float]:
    """This process's counter totals, by series field."""
    found: dict[str, float] = {}
    for family, counter in CHARTED.items():
        for metric in counter.collect():
            for sample in metric.samples:
                if sample.name.endswith("_total"):
                    name = field(family, sample.labels)
                    if name is not None:
                        found[name] = found.get(name, 0.0) + sample.value
    return found


class Series:
    """This process's share of the time buckets: what its counters gained, added now and then."""

    def __init__(self, *, clock: Callable[[], float] = time.time) -> None:
        self._clock = clock
        self._lock = threading.Lock()
        self._sent: dict[str, float] = {}
        self._next = 0.0

    def due(self) -> bool:
        return self._clock() >= self._next

    def flush(self, client: Redis | None = None) -> None:
        """Add the gains since the last flush to the current bucket. A failure keeps them
        for the next flush: nothing is counted twice or lost to a Redis blip."""
        if not self._lock.acquire(blocking=False):
            return  # another thread of this process is at it
        try:
            now = self._clock()
            self._next = now + FLUSH_SECONDS
            current = totals()
            grown = {k: int(v - self._sent.get(k, 0.0)) for k, v in current.items()}
            gains = {k: v for k, v in grown.items() if v > 0}
            if not gains:
                return
            key = series_key(int(now // BUCKET_SECONDS))
            try:
                pipe = (client or get_client()).pipeline(transaction=False)
                for name, gain in gains.items():
                    pipe.hincrby(key, name, gain)
                pipe.expire(key, BUCKET_SECONDS * KEEP)
                pipe.execute()
            except RedisError as exc:
                logger.info("metrics: series flush failed, kept for the next one: %s", exc)
                return
            for name, gain in gains.items():
                self._sent[name] = self._sent.get(name, 0.0) + gain
        finally:
            self._lock.release()


series = Series()


def read(buckets: int, *, client: Redis | None = None) -> list[tuple[int, dict[str, int]]]:
    """The last ``buckets`` buckets, oldest first: (start, unix s; {field: count})."""
    now = int(time.time() // BUCKET_SECONDS)
    numbers = list(range(now - buckets + 1, now + 1))
    pipe = (client or get_client()).pipeline(transaction=False)
    for number in numbers:
        pipe.hgetall(series_key(number))
    found = pipe.execute()
    return [
        (number * BUCKET_SECONDS, {k.decode(): int(v) for k, v in fields.items()})
        for number, fields in zip(numbers, found, strict=True)
    ]


def _endpoint(request: HttpRequest) -> str:
    """The view's URL name (``user-detail``, ``admin:index``): a bounded set of labels,
    unlike paths."""
    match = getattr(request, "resolver_match", None)
    return match.view_name if match is not None and match.view_name else "unmatched"


class MetricsMiddleware:
    """Count and time every response; now and then add the counts to the time buckets."""

    sync_capable = True
    async_capable = True

    def __init__(self, get_response: Callable[[HttpRequest], Any]) -> None:
        self.get_response = get_response
        self.is_async = iscoroutinefunction(get_response)
        if self.is_async:
            markcoroutinefunction(self)

    def __call__(self, request: HttpRequest) -> Any:
        if self.is_async:
            return self.__acall__(request)
        started = time.perf_counter()
        response = self.get_response(request)
        self._count(request, response, started)
        if series.due():
            series.flush()
        return response

    async def __acall__(self, request: HttpRequest) -> HttpResponseBase:
        started = time.perf_counter()
        get_response: Callable[[HttpRequest], Awaitable[HttpResponseBase]] = self.get_response
        response = await get_response(request)
        self._count(request, response, started)
        if series.due():
            await sync_to_async(series.flush, thread_sensitive=False)()
        return response

    @staticmethod
    def _count(request: HttpRequest, response: HttpResponseBase, started: float) -> None:
        endpoint = _endpoint(request)
        LATENCY.labels(endpoint).observe(time.perf_counter() - started)
        REQUESTS.labels(endpoint, request.method or "", str(response.status_code)).inc()
