"""A real uvicorn on a database file of this module, and the shell that awards points in
another process, for the stream and page tests."""

from __future__ import annotations

import os
from collections.abc import Iterator

import pytest

from tests.integration.servers import Browser, migrate, shell, uvicorn

PASSWORD = "a-Long-pass-123"


@pytest.fixture(scope="module")
def env(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    folder = tmp_path_factory.mktemp("stream")
    environ = {**os.environ, "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}"}
    migrate(environ)
    return environ


@pytest.fixture(scope="module")
def server(env: dict[str, str], tmp_path_factory: pytest.TempPathFactory) -> Iterator[str]:
    log = tmp_path_factory.mktemp("uvicorn") / "uvicorn.log"
    with uvicorn(env, log=log) as (base, _):
        yield base


def award(env: dict[str, str], username: str, *deltas: int) -> None:
    shell(env, f"""
from users import leaderboard
from users.models import User
pk = User.objects.get(username={username!r}).pk
for delta in {list(deltas)!r}:
    leaderboard.add_points(user_id=pk, delta=delta)
""")  # fmt: skip


def signed_in(base: str, env: dict[str, str], username: str) -> Browser:
    shell(env, f"""
from users.models import User
if not User.objects.filter(username={username!r}).exists():
    User.objects.create_user({username!r}, {username + "@example.com"!r}, {PASSWORD!r})
""")  # fmt: skip
    browser = Browser()
    assert browser.call(base, "GET", "/api/auth/csrf/")[0] == 200
    status, body = browser.call(base, "POST", "/api/auth/login/",
                                {"username": username, "password": PASSWORD})  # fmt: skip
    assert status == 200, body
    return browser
