"""``Server-Timing`` per request: SQL queries and Redis round trips, with their time.

Anyone can then see in the browser's dev tools what a cached read saves, e.g.
``db;desc="0 queries";dur=0.0, redis;desc="1 round trip";dur=0.2, total;dur=1.9``.

Redis round trips are counted in the connection class (one ``send_packed_command`` is one
round trip: a pipeline or a single command), so every client on the shared pool is seen:
the cache, sessions, direct commands; the same class counts them for ``/metrics`` in every
request or not. The header is on when ``SERVER_TIMING=1`` (default with DEBUG).
"""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

from django.http import HttpRequest, HttpResponse
from redis.connection import (
    AbstractConnection,
    Connection,
    SSLConnection,
    UnixDomainSocketConnection,
)
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import TimeoutError as RedisTimeoutError

from project.metrics import REDIS_ERRORS, REDIS_ROUND_TRIPS


@dataclass
class Recorder:
    queries: int = 0
    query_seconds: float = 0.0
    round_trips: int = 0
    redis_seconds: float = 0.0

    def sql(
        self, execute: Callable[..., Any], sql: str, params: Any, many: bool, context: Any
    ) -> Any:
        start = time.perf_counter()
        try:
            return execute(sql, params, many, context)
        finally:
            self.queries += 1
            self.query_seconds += time.perf_counter() - start


_current: ContextVar[Recorder | None] = ContextVar("server_timing", default=None)


class _Timed(AbstractConnection):
    """Counts round trips and failed ones (``project.metrics``) and adds the time spent
    sending and reading to the current request's recorder, if any."""

    def send_packed_command(self, command: Any, check_health: bool = True) -> None:
        REDIS_ROUND_TRIPS.inc()
        recorder = _current.get()
        start = time.perf_counter()
        try:
            return super().send_packed_command(command, check_health)
        except (RedisConnectionError, RedisTimeoutError):
            REDIS_ERRORS.inc()
            raise
        finally:
            if recorder is not None:
                recorder.round_trips += 1
                recorder.redis_seconds += time.perf_counter() - start

    def read_response(self, *args: Any, **kwargs: Any) -> Any:
        recorder = _current.get()
        start = time.perf_counter()
        try:
            return super().read_response(*args, **kwargs)
        except (RedisConnectionError, RedisTimeoutError):
            REDIS_ERRORS.inc()
            raise
        finally:
            if recorder is not None:
                recorder.redis_seconds += time.perf_counter() - start


class TimedConnection(_Timed, Connection):
    pass


class TimedSSLConnection(_Timed, SSLConnection):
    pass


class TimedUnixConnection(_Timed, UnixDomainSocketConnection):
    pass


def connection_class_for(url: str) -> type[AbstractConnection]:
    """The timed connection class for ``url``'s scheme (settings pass it to the pool)."""
    scheme = urlsplit(url).scheme
    return {"unix": TimedUnixConnection, "rediss": TimedSSLConnection}.get(scheme, TimedConnection)


def _count(n: int, one: str, many: str) -> str:
    return f"{n} {one if n == 1 else many}"


class ServerTimingMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        from django.db import connections  # not at import: settings import this module

        recorder = Recorder()
        token = _current.set(recorder)
        start = time.perf_counter()
        try:
            with ExitStack() as stack:
                for alias in connections:
                    stack.enter_context(connections[alias].execute_wrapper(recorder.sql))
                response = self.get_response(request)
        finally:
            _current.reset(token)
        total = time.perf_counter() - start
        queries = _count(recorder.queries, "query", "queries")
        round_trips = _count(recorder.round_trips, "round trip", "round trips")
        response["Server-Timing"] = (
            f'db;desc="{queries}";dur={recorder.query_seconds * 1000:.1f}, '
            f'redis;desc="{round_trips}";dur={recorder.redis_seconds * 1000:.1f}, '
            f"total;dur={total * 1000:.1f}"
        )
        return response
