"""Fixtures every test may use: the real test Redis, an outage on demand, Redis servers of a
test's own (a snapshot to restart from, a replica to promote), threads released together,
API clients that behave like a browser, users, and ``manage.py`` in a subprocess."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, TypeVar

import pytest
from django.conf import settings
from django.test import override_settings
from redis import Redis

from caching.services import cache_service
from project.redis import epoch
from project.redis.client import get_client
from project.redis.epoch import losses
from project.redis.local import BASE_DIR
from tests.clients import PASSWORD, BrowserClient
from tests.own_redis import ReplicatedRedis, SnapshotRedis, replicated_redis, snapshot_redis
from users.models import User

T = TypeVar("T")

pytest_plugins = ["tests.chromium"]  # the browser fixture


@pytest.fixture(autouse=True)
def redis_client() -> Redis:
    """The raw client on the test Redis, emptied before each test.

    The test session started this server (or REDIS_URL named it), so flushing is safe.
    """
    client = get_client()
    client.flushdb()
    keep_epoch_records(client)
    return client


def keep_epoch_records(client: Redis) -> None:
    """FLUSHDB took the records of adopted data (``project/redis/epoch.py``) with it: put
    them back, or each new connection of the test would report a possible loss and drop
    the cache mid-test. An emptied server has nothing stale to serve."""
    if settings.REDIS_TOPOLOGY.kind != "cluster":
        client.set(epoch.record_key(), client.info("server")["run_id"])
        return
    for address, node in client.cluster_nodes().items():  # type: ignore[attr-defined]
        if "master" in node["flags"] and node["slots"]:
            host, port = address.rsplit(":", 1)
            with Redis(host=host, port=int(port), socket_timeout=2) as direct:
                run_id = direct.info("server")["run_id"]
            client.set(epoch.record_key(int(node["slots"][0][0])), run_id)


@pytest.fixture(autouse=True)
def fresh_cache_service(redis_client: Redis) -> Iterator[None]:
    """The process-wide cache service keeps failure state, and the process the losses of
    Redis data it noticed (a new connection to the emptied test Redis is one); no test
    leaks them to another."""
    cache_service.reset()
    losses.clear()
    yield
    cache_service.reset()
    losses.clear()


@pytest.fixture
def redis_config(redis_client: Redis) -> Iterator[Callable[..., None]]:
    """``redis_config(maxmemory_policy="allkeys-lru", ...)`` sets the suite's Redis's
    configuration for this test; it is set back after it."""
    saved: dict[str, str] = {}

    def configure(**options: str | int) -> None:
        for option, value in options.items():
            name = option.replace("_", "-")
            saved.setdefault(name, str(redis_client.config_get(name)[name]))
            redis_client.config_set(name, value)

    yield configure
    for name, value in saved.items():
        redis_client.config_set(name, value)


@pytest.fixture
def snapshot_server(tmp_path: Path) -> Iterator[SnapshotRedis]:
    """A redis-server of this test's own that can crash and restart from its snapshot."""
    with snapshot_redis(tmp_path / "redis") as server:
        yield server


@pytest.fixture
def replicated(tmp_path: Path) -> Iterator[ReplicatedRedis]:
    """A primary and a replica of this test's own, on loopback ports."""
    with replicated_redis(tmp_path) as pair:
        yield pair


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    # PBKDF2's cost is the point in production and dead time in tests that are not about it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


# --- Redis down ------------------------------------------------------------------------

DEAD_CACHES = {
    "default": {
        "BACKEND": "django_redis.cache.RedisCache",
        "LOCATION": "unix:///nonexistent/redis.sock",
        "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.1, "SOCKET_TIMEOUT": 0.1},
    }
}


class Outage:
    """Redis unreachable for the code under test: ``get_client()`` hands out a client on a
    socket nobody listens on (the real server keeps running for the test's own checks)."""

    def __init__(self) -> None:
        self._override: override_settings | None = None

    @property
    def active(self) -> bool:
        return self._override is not None

    def begin(self) -> None:
        if self._override is None:
            self._override = override_settings(CACHES=DEAD_CACHES)
            self._override.enable()

    def end(self) -> None:
        """Redis is back (the processes' breakers still have to notice)."""
        if self._override is not None:
            self._override.disable()
            self._override = None


@pytest.fixture
def redis_down() -> Iterator[Outage]:
    """Redis is down from the start of the test; ``redis_down.end()`` brings it back."""
    outage = Outage()
    outage.begin()
    yield outage
    outage.end()


# --- Races -----------------------------------------------------------------------------

Together = Callable[[int, Callable[[int], T]], list[T]]


@pytest.fixture
def together() -> Callable[[int, Callable[[int], Any]], list[Any]]:
    """``together(n, work)``: run ``work(0)`` … ``work(n - 1)`` in ``n`` threads released at
    one barrier, as close to simultaneously as threads get; their results in order. An
    exception in any thread fails the test."""

    def run(count: int, work: Callable[[int], T]) -> list[T]:
        barrier = threading.Barrier(count)
        results: list[Any] = [None] * count
        errors: list[BaseException] = []

        def worker(index: int) -> None:
            try:
                barrier.wait(timeout=30)
                results[index] = work(index)
            except BaseException as exc:
                errors.append(exc)

        threads = [threading.Thread(target=worker, args=(i,)) for i in range(count)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        if errors:
            raise errors[0]
        return results

    return run


# --- Clients and users -----------------------------------------------------------------


@pytest.fixture
def api() -> BrowserClient:
    return BrowserClient()


@pytest.fixture
def new_api() -> Callable[..., BrowserClient]:
    """Another browser-like client (another device), with extra request defaults."""
    return BrowserClient


@pytest.fixture
def make_user(db: None) -> Callable[..., User]:
    counter = iter(range(1, 10_000))

    def make(**fields: Any) -> User:
        n = next(counter)
        fields.setdefault("username", f"user{n}")
        fields.setdefault("email", f"user{n}@example.com")
        fields.setdefault("password", PASSWORD)
        return User.objects.create_user(**fields)

    return make


@pytest.fixture
def password() -> str:
    """The password ``make_user`` gives every user."""
    return PASSWORD


Manage = Callable[..., subprocess.CompletedProcess[str]]


@pytest.fixture
def manage() -> Manage:
    """Run ``manage.py`` in a fresh process with extra environment (start-up checks)."""

    def run(*args: str, **environ: str) -> subprocess.CompletedProcess[str]:
        return subprocess.run(
            [sys.executable, "manage.py", *args],
            cwd=BASE_DIR, env={**os.environ, **environ}, capture_output=True, text=True,
            check=False,
        )  # fmt: skip

    return run
