"""Two gunicorn instances on one Redis and one database, as behind a load balancer."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.integration.servers import Browser, gunicorns, migrate

pytestmark = pytest.mark.redis

PASSWORD = "correct-Horse-battery-9"


@pytest.fixture(scope="module")
def instances(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, str]]:
    database = tmp_path_factory.mktemp("db") / "shared.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "THROTTLE_RATES": "anon=10/min,user=1000/min,login=100/min",
        "REDIS_KEY_PREFIX": "twoinstances",
    }
    migrate(env)
    with gunicorns(env, count=2, workers=1) as bases:
        yield bases[0], bases[1]


def test_a_limit_is_shared_exactly_across_instances(instances: tuple[str, str]) -> None:
    browser = Browser()
    codes = [browser.call(instances[i % 2], "GET", "/api/tags/common/?users=1")[0]
             for i in range(30)]  # fmt: skip
    assert codes.count(400) + codes.count(200) == 10  # admitted: answered by the view
    assert codes.count(429) == 20


def test_sessions_writes_and_revocation_cross_instances(instances: tuple[str, str]) -> None:
    a, b = instances
    browser = Browser()
    user = {"username": "twin", "email": "twin@example.com", "password": PASSWORD}
    status, created = browser.call(a, "POST", "/api/users/", user)
    assert status == 201
    browser.call(a, "GET", "/api/auth/csrf/")
    assert (
        browser.call(a, "POST", "/api/auth/login/", {"username": "twin", "password": PASSWORD})[0]
        == 200
    )
    # A session created on A works on B.
    status, me = browser.call(b, "GET", "/api/auth/me/")
    assert (status, me["username"]) == (200, "twin")
    # A write through A is never served stale by B, even with B's cache warm.
    path = f"/api/users/{created['id']}/"
    assert browser.call(b, "GET", path)[1]["full_name"] == ""
    assert browser.call(a, "PATCH", path, {"full_name": "Twin A"})[0] == 200
    assert browser.call(b, "GET", path)[1]["full_name"] == "Twin A"
    # Revoke-all on A logs out a session that lives on B.
    other = Browser()
    other.call(b, "GET", "/api/auth/csrf/")
    assert (
        other.call(b, "POST", "/api/auth/login/", {"username": "twin", "password": PASSWORD})[0]
        == 200
    )
    assert other.call(b, "GET", "/api/auth/me/")[0] == 200
    status, revoked = browser.call(
        a, "POST", "/api/auth/sessions/revoke-all/", {"keep_current": True}
    )
    assert (status, revoked) == (200, {"revoked": 1})
    assert other.call(b, "GET", "/api/auth/me/")[0] == 403
    assert browser.call(b, "GET", "/api/auth/me/")[0] == 200
