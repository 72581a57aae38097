"""A process that writes while it cannot reach Redis, then exits (a command, a shell, a
task): its invalidation outlives it, and the web processes apply it by themselves."""

from __future__ import annotations

import os
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from project.redis.local import BASE_DIR
from tests.integration.servers import Browser, gunicorns, migrate

pytestmark = pytest.mark.redis

PASSWORD = "correct-Horse-battery-9"
UNREACHABLE = "redis://127.0.0.1:1/0"  # nothing listens there: every command fails at once
WRITER = """
from users.models import User
user = User.objects.get(username="loner")
user.full_name = "After"
user.save()
"""


@pytest.fixture
def site(tmp_path: Path) -> Iterator[tuple[str, dict[str, str]]]:
    """One gunicorn worker on the suite's Redis and a database of its own; its env."""
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "REDIS_KEY_PREFIX": "lostinvalidation",
        "THROTTLE_RATES": "anon=1000000/min,user=1000000/min,login=1000/min",
    }
    migrate(env)
    with gunicorns(env, count=1, workers=1) as bases:
        yield bases[0], env


def test_a_writer_that_exits_without_reaching_redis_leaves_no_stale_entry(
    site: tuple[str, dict[str, str]],
) -> None:
    base, env = site
    browser = Browser()
    user = {"username": "loner", "email": "loner@example.com", "password": PASSWORD,
            "full_name": "Before"}  # fmt: skip
    status, created = browser.call(base, "POST", "/api/users/", user)
    assert status == 201, created
    path = f"/api/users/{created['id']}/"
    browser.call(base, "GET", path)
    status, cached, headers = browser.request(base, "GET", path)
    assert (status, cached["full_name"], headers["X-Cache"]) == (200, "Before", "HIT")

    writer = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", WRITER], cwd=BASE_DIR,
        env={**env, "REDIS_URL": UNREACHABLE}, capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert writer.returncode == 0, writer.stderr
    assert "recorded" in writer.stderr  # the change went to the database, not nowhere
    exited = time.monotonic()

    names = []
    while time.monotonic() - exited < 10:  # the replay runs about once a second
        status, body = browser.call(base, "GET", path)
        assert status == 200, body
        names.append(body["full_name"])
        if names[-1] == "After":
            break
        time.sleep(0.02)  # polling, not synchronising: bounds the number of reads
    assert names[-1] == "After", f"still {names[-1]!r} after {len(names)} reads"
    assert set(names) <= {"Before", "After"}
    assert names[-1:] * 5 == [browser.call(base, "GET", path)[1]["full_name"] for _ in range(5)]
