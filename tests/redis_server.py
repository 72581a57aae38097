"""Give the test session its own redis-server before Django's settings are read.

Loaded early with ``-p tests.redis_server`` (pyproject.toml): pytest-django imports the
settings while pytest loads the first conftests, and the settings need REDIS_URL. Unless
REDIS_URL names a Redis, the session uses the project's local-server machinery on its own
socket under ``var/redis-test/`` (never the development server's data, never 6379), starts
it if needed and stops it at the end if it started it. Worker processes inherit the
environment and share the server.
"""

from __future__ import annotations

import os
from collections.abc import Generator
from pathlib import Path

import pytest

from project.redis.local import BASE_DIR, LocalRedis

TEST_REDIS_DIR = BASE_DIR / "var" / "redis-test"
_started = pytest.StashKey[LocalRedis]()


@pytest.hookimpl(wrapper=True)
def pytest_load_initial_conftests(
    early_config: pytest.Config, parser: pytest.Parser, args: list[str]
) -> Generator[None, None, None]:
    os.environ.setdefault("DJANGO_SECRET_KEY", "django-insecure-test-only")
    # Roomy limits, so tests that sign in often are not throttled; the throttle tests set
    # their own rates.
    os.environ.setdefault(
        "THROTTLE_RATES",
        "anon=1000/min,user=10000/min,login=100/min,login_account=100/min,register=1000/min",
    )
    on_cluster = os.environ.get("REDIS_URL", "").startswith("redis+cluster://")
    if not os.environ.get("REDIS_URL") or (on_cluster and not os.environ.get("TASKS_REDIS_URL")):
        # The suite's own server; on a Cluster, where RQ cannot run, it holds the task queue.
        if on_cluster:
            server = LocalRedis(
                Path(os.environ.get("LOCAL_REDIS_DIR", TEST_REDIS_DIR)), persistent=False
            )
        else:
            os.environ.setdefault("LOCAL_REDIS_DIR", str(TEST_REDIS_DIR))
            server = LocalRedis.from_environ()
        if server.ensure_running():
            early_config.stash[_started] = server
        os.environ["TASKS_REDIS_URL" if on_cluster else "REDIS_URL"] = server.url
    return (yield)


def pytest_report_header(config: pytest.Config) -> str:
    tasks = os.environ.get("TASKS_REDIS_URL")
    return f"redis: {os.environ.get('REDIS_URL')}" + (f", task queue: {tasks}" if tasks else "")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """Skip, and say why, what a topology cannot run: ``standalone`` tests open plain
    connections from REDIS_URL (CLIENT PAUSE, a custom connection class); ``local_redis``
    tests exercise the project's own server, absent when REDIS_URL names one."""
    from project.redis.config import parse

    kind = parse(os.environ["REDIS_URL"]).kind
    local = "LOCAL_REDIS_DIR" in os.environ
    for item in items:
        if kind != "standalone" and item.get_closest_marker("standalone"):
            item.add_marker(pytest.mark.skip(reason=f"needs a standalone Redis, not {kind}"))
        if not local and item.get_closest_marker("local_redis"):
            item.add_marker(pytest.mark.skip(reason="REDIS_URL names a Redis: no local server"))


def pytest_unconfigure(config: pytest.Config) -> None:
    server = config.stash.get(_started, None)
    if server is not None:
        server.stop()
