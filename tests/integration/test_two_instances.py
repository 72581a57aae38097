"""Two gunicorn instances on one Redis and one database, as behind a load balancer."""

from __future__ import annotations

import http.cookiejar
import json
import os
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from project.redis.local import BASE_DIR

pytestmark = pytest.mark.redis

PASSWORD = "correct-Horse-battery-9"


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class Browser:
    """A cookie-keeping HTTP client that sends the CSRF header like a SPA would."""

    def __init__(self) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar))

    def call(self, base: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        token = next((c.value for c in self.jar if c.name == "csrftoken"), None)
        if token:
            headers["X-CSRFToken"] = token
            headers["Referer"] = base
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
        try:
            with self.opener.open(request, timeout=10) as response:
                raw = response.read()
                return response.status, json.loads(raw) if raw else None
        except urllib.error.HTTPError as error:
            raw = error.read()
            return error.code, json.loads(raw) if raw else None


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
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=BASE_DIR, env=env, check=True,
    )  # fmt: skip
    ports = [free_port(), free_port()]
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [str(gunicorn), "project.wsgi", "--workers", "1", "--log-level", "warning"]
    processes = [
        subprocess.Popen([*command, "--bind", f"127.0.0.1:{port}"], cwd=BASE_DIR, env=env)
        for port in ports
    ]
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for base in bases:
            deadline = time.monotonic() + 20
            while True:
                try:
                    urllib.request.urlopen(base + "/api/health/", timeout=1).close()
                    break
                except OSError:
                    assert time.monotonic() < deadline, f"{base} did not start"
                    time.sleep(0.1)
        yield bases[0], bases[1]
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


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
