from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Callable
from typing import Any

import pytest
from redis import Redis
from rest_framework.test import APIClient

from project.localredis import BASE_DIR
from project.redis import get_client
from users.models import User

PASSWORD = "correct-Horse-battery-9"


@pytest.fixture(autouse=True)
def redis_client() -> Redis:
    """The raw client on the test Redis, emptied before each test.

    The test session started this server (or REDIS_URL named it), so flushing is safe.
    """
    client = get_client()
    client.flushdb()
    return client


@pytest.fixture(autouse=True)
def fast_password_hashing(settings: Any) -> None:
    # PBKDF2's cost is the point in production and dead time in tests that are not about it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def api() -> APIClient:
    """A cookie-keeping client that enforces CSRF like a browser would face it."""
    return APIClient(enforce_csrf_checks=True)


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


def manage(*args: str, **environ: str) -> subprocess.CompletedProcess[str]:
    """Run ``manage.py`` in a fresh process with extra environment (start-up checks)."""
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR, env={**os.environ, **environ}, capture_output=True, text=True, check=False,
    )  # fmt: skip
