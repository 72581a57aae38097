"""The Server-Timing header counts what a request really did."""

from __future__ import annotations

import pytest
import redis
from django.conf import settings
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from project.redis.timing import ServerTimingMiddleware, connection_class_for
from users.models import User

pytestmark = [pytest.mark.redis, pytest.mark.django_db]


@pytest.mark.standalone
def test_header_reports_queries_and_round_trips() -> None:
    pool = redis.ConnectionPool.from_url(
        settings.REDIS_URL, connection_class=connection_class_for(settings.REDIS_URL)
    )
    client = redis.Redis(connection_pool=pool)
    client.ping()  # connect first: the handshake's own round trips are not this request's

    def view(request: HttpRequest) -> HttpResponse:
        client.get("a")
        pipe = client.pipeline(transaction=False)
        pipe.get("b")
        pipe.get("c")
        pipe.execute()  # one round trip for two commands
        User.objects.count()
        return HttpResponse("ok")

    response = ServerTimingMiddleware(view)(RequestFactory().get("/"))
    header = response["Server-Timing"]
    assert 'db;desc="1 query"' in header
    assert 'redis;desc="2 round trips"' in header
    assert "total;dur=" in header


@pytest.mark.standalone
def test_commands_outside_a_request_are_not_counted() -> None:
    pool = redis.ConnectionPool.from_url(
        settings.REDIS_URL, connection_class=connection_class_for(settings.REDIS_URL)
    )
    redis.Redis(connection_pool=pool).ping()  # no recorder: nothing to count, no error

    def view(request: HttpRequest) -> HttpResponse:
        return HttpResponse("ok")

    header = ServerTimingMiddleware(view)(RequestFactory().get("/"))["Server-Timing"]
    assert 'db;desc="0 queries"' in header
    assert 'redis;desc="0 round trips"' in header
