"""What the app counts, in one place: prometheus-client counters every part increments.

``GET /metrics`` serves them (``observability``) and the admin's Redis dashboard charts
them (``project.web.observed`` adds each process's increments to time buckets in Redis).
A process counts in its own memory; with ``PROMETHEUS_MULTIPROC_DIR`` set (gunicorn.conf.py
sets it for gunicorn's workers) each process writes its counts to a file there, and a scrape
sums the files, so ``/metrics`` is current and complete whichever worker answers.

This module imports nothing of the project: any layer may count into it.
"""

from __future__ import annotations

from prometheus_client import Counter, Histogram

REQUESTS = Counter(
    "app_http_requests", "HTTP responses, by route, method and status.",
    ["endpoint", "method", "status"],
)  # fmt: skip
LATENCY = Histogram(
    "app_http_request_duration_seconds", "Time to the response (its headers), by route.",
    ["endpoint"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 10.0),
)  # fmt: skip
CACHE = Counter(
    "app_cache_events", "Cache events: hit, miss, bypass, fill, fill_rejected, invalidation...",
    ["event"],
)  # fmt: skip
THROTTLE = Counter(
    "app_throttle_decisions", "Throttle decisions by scope: admitted, refused, or Redis "
    "failing (failed_open admits, failed_closed answers 503).",
    ["scope", "outcome"],
)  # fmt: skip
SESSIONS = Counter(
    "app_session_operations", "Session store operations (load, create, update, expire, "
    "delete...) by outcome: ok, or failed (Redis unavailable: a 503).",
    ["operation", "outcome"],
)  # fmt: skip
REDIS_ROUND_TRIPS = Counter(
    "app_redis_round_trips", "Round trips to Redis (a pipeline is one), sync clients."
)
REDIS_ERRORS = Counter(
    "app_redis_errors", "Round trips to Redis that failed (a connection or timeout error)."
)
EVENTS = Counter(
    "app_events", "Domain events: published, deferred, dropped, lost (publisher); consumed, "
    "failed, dead_lettered (stream consumers).",
    ["outcome"],
)  # fmt: skip

# What the dashboard charts over time (every counter but the histogram), by short name.
CHARTED: dict[str, Counter] = {
    "http": REQUESTS,
    "cache": CACHE,
    "throttle": THROTTLE,
    "sessions": SESSIONS,
    "redis": REDIS_ROUND_TRIPS,
    "redis_errors": REDIS_ERRORS,
    "events": EVENTS,
}
