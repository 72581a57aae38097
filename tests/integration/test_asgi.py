"""The API under ASGI (uvicorn, as production may run it) behaves as under WSGI: cached
reads and writes that are never served stale, sign-in and the throttles' headers, JSON
errors, the admin's login page and the static files."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.integration.servers import Browser, migrate, uvicorn

pytestmark = pytest.mark.redis

PASSWORD = "correct-Horse-battery-9"


@pytest.fixture(scope="module")
def base(tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    folder = tmp_path_factory.mktemp("asgi")
    env = {**os.environ, "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}"}
    migrate(env)
    with uvicorn(env, log=folder / "uvicorn.log") as (url, _):
        yield url


def test_cached_reads_and_writes_under_asgi(base: str) -> None:
    browser = Browser()
    user = {"username": "asgi", "email": "asgi@example.com", "password": PASSWORD}
    status, created = browser.call(base, "POST", "/api/users/", user)
    assert status == 201, created
    path = f"/api/users/{created['id']}/"
    caches = [browser.request(base, "GET", path)[2]["X-Cache"] for _ in range(2)]
    assert caches[-1] == "HIT"
    browser.call(base, "GET", "/api/auth/csrf/")
    status, _, headers = browser.request(
        base, "POST", "/api/auth/login/", {"username": "asgi", "password": PASSWORD}
    )
    assert status == 200
    assert "RateLimit-Policy" in headers
    assert browser.call(base, "PATCH", path, {"full_name": "Under ASGI"})[0] == 200
    assert browser.call(base, "GET", path)[1]["full_name"] == "Under ASGI"
    assert browser.call(base, "GET", "/api/auth/me/")[1]["username"] == "asgi"


def test_errors_admin_and_static_files_under_asgi(base: str) -> None:
    browser = Browser()
    status, body = browser.call(base, "GET", "/api/users/999999/")
    assert (status, set(body)) == (404, {"detail"})
    status, body = browser.call(base, "POST", "/api/users/", {"username": ""})
    assert status == 400
    assert "username" in body
    assert browser.call(base, "GET", "/admin/login/")[0] == 200
    assert browser.call(base, "GET", "/static/admin/css/base.css")[0] == 200
