"""The throttle against the real Redis: exact under concurrency, one clock, headers,
identity, and both failure policies."""

from __future__ import annotations

import multiprocessing
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
import redis
from django.test import override_settings
from django.urls import path
from rest_framework.response import Response
from rest_framework.test import APIClient
from rest_framework.views import APIView

from project.redis.client import get_client
from ratelimit import keys
from ratelimit.scripts import sliding_window
from ratelimit.throttles import ScopedRateThrottle
from users.models import User

pytestmark = pytest.mark.redis

KEY = keys.window("test", "ip4-192.0.2.1")


def check_once(limit: int = 100, window: int = 60) -> bool:
    return sliding_window(
        get_client(),
        KEY,
        limit=limit,
        window=window,
        member=f"{time.time_ns()}-{threading.get_ident()}",
    ).admitted


def test_exactly_the_limit_of_1000_attempts_at_32_threads(
    redis_client: redis.Redis, together: Any
) -> None:
    shares = [1000 // 32 + (i < 1000 % 32) for i in range(32)]  # 1000 attempts in all
    admitted = together(32, lambda i: sum(check_once() for _ in range(shares[i])))
    assert sum(admitted) == 100
    assert redis_client.zcard(KEY) == 100  # refused attempts are not recorded
    assert 0 < redis_client.pttl(KEY) <= 60_000  # the key expires with its window


def _process(barrier: Any, results: Any, together: Any) -> None:  # runs in a forked child
    from django.db import connections

    connections.close_all()
    barrier.wait()
    for passed in together(8, lambda _: sum(check_once(limit=50) for _ in range(25))):
        results.put(passed)


def test_exactly_the_limit_across_four_processes(redis_client: redis.Redis, together: Any) -> None:
    ctx = multiprocessing.get_context("fork")
    barrier, results = ctx.Barrier(4), ctx.Queue()
    client = get_client()  # children must not share our sockets
    if isinstance(client, redis.RedisCluster):
        client.disconnect_connection_pools()
    else:
        client.connection_pool.disconnect()
    # A forked child gets its arguments by memory, not pickled: the fixture's function too.
    children = [ctx.Process(target=_process, args=(barrier, results, together)) for _ in range(4)]
    for child in children:
        child.start()
    admitted = sum(results.get(timeout=60) for _ in range(32))
    for child in children:
        child.join(timeout=60)
    assert admitted == 50  # 800 attempts from 4 processes, 8 threads each
    assert redis_client.zcard(KEY) == 50


def test_the_window_slides_on_redis_time(redis_client: redis.Redis) -> None:
    seconds, micros = redis_client.time()
    now = seconds * 1_000_000 + micros
    # Two requests 61 s ago (outside a 60 s window) and one 30 s ago (inside).
    redis_client.zadd(KEY, {"old-1": now - 61_000_000, "old-2": now - 61_000_000})
    redis_client.zadd(KEY, {"recent": now - 30_000_000})
    verdict = sliding_window(redis_client, KEY, limit=2, window=60, member="new")
    assert verdict.admitted  # the two old ones no longer count
    refused = sliding_window(redis_client, KEY, limit=2, window=60, member="newer")
    assert not refused.admitted
    assert 29 < refused.reset <= 30  # when "recent" leaves the window
    assert redis_client.zcard(KEY) == 2


def test_app_server_clocks_do_not_matter(
    redis_client: redis.Redis, monkeypatch: pytest.MonkeyPatch
) -> None:
    for _ in range(2):
        assert check_once(limit=2)
    real = time.time
    monkeypatch.setattr(time, "time", lambda: real() + 3600)  # this server runs an hour ahead
    assert not check_once(limit=2)


# --- Through DRF ---------------------------------------------------------------------


class Wide(ScopedRateThrottle):
    scope = "wide"

    def get_scope(self, request: Any, view: Any) -> str:
        return "wide"


class Narrow(ScopedRateThrottle):
    def get_scope(self, request: Any, view: Any) -> str:
        return "narrow"


class TwoThrottles(APIView):
    permission_classes: list = []
    throttle_classes = [Wide, Narrow]

    def get(self, request: Any) -> Response:
        return Response({"ok": True})


class NarrowFirst(TwoThrottles):
    throttle_classes = [Narrow, Wide]


class Scoped(APIView):
    permission_classes: list = []
    throttle_classes = [ScopedRateThrottle]
    throttle_scope = "reports"

    def get(self, request: Any) -> Response:
        return Response({"ok": True})


urlpatterns = [
    path("two/", TwoThrottles.as_view()),
    path("narrow-first/", NarrowFirst.as_view()),
    path("scoped/", Scoped.as_view()),
]
RATES = {"wide": "10/min", "narrow": "2/min", "reports": "3/min", "anon": "4/min",
         "user": "6/min", "login": "3/min"}  # fmt: skip


@pytest.fixture
def rates(settings: Any) -> dict[str, str]:
    settings.THROTTLE_RATES = RATES
    return RATES


@pytest.mark.urls("tests.ratelimit.test_throttles")
@pytest.mark.parametrize("path", ["/two/", "/narrow-first/"])
def test_a_refusal_by_one_throttle_costs_the_others_nothing(
    rates: dict, redis_client: redis.Redis, path: str
) -> None:
    """Whether the refusing throttle runs first or last, the other keeps its quota."""
    client = APIClient()
    statuses = [client.get(path).status_code for _ in range(5)]
    assert statuses == [200, 200, 429, 429, 429]
    assert redis_client.zcard(keys.window("wide", "ip4-127.0.0.1")) == 2


@pytest.mark.urls("tests.ratelimit.test_throttles")
def test_headers_and_the_429(rates: dict) -> None:
    client = APIClient()
    first = client.get("/scoped/")
    assert first["RateLimit-Policy"] == '"reports";q=3;w=60'
    assert first["RateLimit"].startswith('"reports";r=2;t=')
    client.get("/scoped/")
    client.get("/scoped/")
    refused = client.get("/scoped/")
    assert refused.status_code == 429
    assert refused["RateLimit"].startswith('"reports";r=0;t=')
    wait = int(refused["Retry-After"])
    assert 1 <= wait <= 60
    assert refused.json()["wait"] == wait
    assert "throttled" in refused.json()["detail"]


@pytest.mark.django_db
def test_default_throttles_count_anonymous_per_ip_and_users_per_id(
    rates: dict, make_user: Callable[..., User]
) -> None:
    anonymous = APIClient()
    assert [anonymous.get("/api/users/").status_code for _ in range(5)][-1] == 429
    other_ip = APIClient(REMOTE_ADDR="198.51.100.1")
    assert other_ip.get("/api/users/").status_code == 200
    spoofer = APIClient(HTTP_X_FORWARDED_FOR="198.51.100.77")  # NUM_PROXIES=0: ignored
    assert spoofer.get("/api/users/").status_code == 429
    signed_in = APIClient()
    signed_in.force_login(make_user())
    assert [signed_in.get("/api/users/").status_code for _ in range(6)][-1] == 200
    assert signed_in.get("/api/users/").status_code == 429


@pytest.mark.django_db
def test_login_is_limited_per_ip(rates: dict, make_user: Callable[..., User]) -> None:
    make_user(username="bob")
    client = APIClient()
    codes = [
        client.post("/api/auth/login/", {"username": "bob", "password": "x"}, format="json")
        for _ in range(4)
    ]
    assert [c.status_code for c in codes] == [400, 400, 400, 429]
    assert "login" in codes[-1]["RateLimit-Policy"]


@pytest.mark.django_db
def test_malformed_login_body_is_a_400_not_a_500(rates: dict) -> None:
    response = APIClient().post(
        "/api/auth/login/", data="{not json", content_type="application/json"
    )
    assert response.status_code == 400
    assert response.json()["detail"].startswith("JSON parse error")


@pytest.mark.urls("tests.ratelimit.test_throttles")
@pytest.mark.usefixtures("redis_down")
@override_settings(THROTTLE_FAIL_OPEN=True, THROTTLE_RATES=RATES)
def test_redis_down_fail_open_admits_and_counts() -> None:
    from ratelimit.throttles import failures

    before = failures["reports"]
    response = APIClient().get("/scoped/")
    assert response.status_code == 200
    assert "RateLimit" not in response
    assert failures["reports"] == before + 1


@pytest.mark.urls("tests.ratelimit.test_throttles")
@pytest.mark.usefixtures("redis_down")
@override_settings(THROTTLE_FAIL_OPEN=False, THROTTLE_RATES=RATES)
def test_redis_down_fail_closed_is_a_503() -> None:
    response = APIClient().get("/scoped/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "unavailable" in response.json()["detail"]


@pytest.mark.urls("tests.ratelimit.test_throttles")
def test_a_scope_without_a_rate_is_not_limited(settings: Any) -> None:
    settings.THROTTLE_RATES = {"reports": "1/min"}
    client = APIClient()
    assert [client.get("/two/").status_code for _ in range(3)] == [200, 200, 200]
    assert "RateLimit" not in client.get("/two/")
    assert [client.get("/scoped/").status_code for _ in range(2)] == [200, 429]


@pytest.mark.django_db
def test_each_request_is_counted_by_one_default_throttle(
    rates: dict, make_user: Callable[..., User]
) -> None:
    """Anonymous requests by the anon throttle, signed-in ones by the user throttle: one
    round trip each (DRF's UserRateThrottle would count anonymous requests twice)."""
    anonymous = APIClient().get("/api/users/")
    assert anonymous["RateLimit-Policy"] == '"anon";q=4;w=60'
    signed_in = APIClient()
    signed_in.force_login(make_user())
    assert signed_in.get("/api/users/")["RateLimit-Policy"] == '"user";q=6;w=60'


@pytest.mark.django_db
@pytest.mark.usefixtures("redis_down")
@override_settings(THROTTLE_FAIL_OPEN=True)
def test_sign_in_fails_closed_when_its_throttle_cannot_run(make_user: Any) -> None:
    """Whatever the global policy: an unthrottled sign-in is a password oracle."""
    make_user(username="owner")
    client = APIClient()
    guesses = [
        client.post("/api/auth/login/", {"username": "owner", "password": f"guess-{n}"})
        for n in range(30)
    ]
    assert {g.status_code for g in guesses} == {503}
    assert guesses[0]["Retry-After"] == "5"
    assert "retry" in guesses[0].json()["detail"]
