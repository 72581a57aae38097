"""Redis servers of a test's own, for what must not happen to the suite's shared server:
a crash and a restart from a snapshot, a replica promoted over its primary, a server
frozen, killed or slowed under load."""

from __future__ import annotations

import contextlib
import signal
import subprocess
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from project.redis import epoch
from project.redis.local import LocalRedis
from scripts.topology import binaries, start_server, wait_for
from tests.integration.servers import free_port

OPTIONS: dict[str, Any] = {
    "socket_timeout": 2,
    "socket_connect_timeout": 2,
    "retry": Retry(NoBackoff(), 0),
    "redis_connect_func": epoch.on_connect,  # as the project's own pools connect
}


class SnapshotRedis:
    """A redis-server on a socket of its own that can be snapshotted (``SAVE``), killed
    without saving, and started again from that snapshot: the writes after it are lost."""

    def __init__(self, directory: Path) -> None:
        self.server = LocalRedis(directory, persistent=False)
        self.server.ensure_running()

    def client(self) -> redis.Redis:
        return redis.Redis(unix_socket_path=str(self.server.socket_path), **OPTIONS)

    def snapshot(self) -> None:
        with self.server.client(timeout=5) as conn:
            conn.save()

    def crash_and_restart(self) -> None:
        with self.server.client(timeout=5) as conn, contextlib.suppress(redis.ConnectionError):
            conn.shutdown(nosave=True)
        deadline = time.monotonic() + 10
        while self.server.is_running():
            assert time.monotonic() < deadline, "redis-server did not stop"
            time.sleep(0.02)
        self.server.ensure_running()  # loads dump.rdb, the snapshot

    def stop(self) -> None:
        self.server.stop()


@contextmanager
def snapshot_redis(directory: Path) -> Iterator[SnapshotRedis]:
    server = SnapshotRedis(directory)
    try:
        yield server
    finally:
        server.stop()


class ReplicatedRedis:
    """A primary and its replica on loopback ports of their own."""

    def __init__(self, directory: Path) -> None:
        self.primary, self.replica = free_port(), free_port()
        # No waiting: a full sync starts at once, a shutdown does not wait for the replica.
        start_server(self.primary, directory / "primary", "--repl-diskless-sync-delay", "0")
        start_server(
            self.replica, directory / "replica", "--replicaof", "127.0.0.1", str(self.primary)
        )
        self.wait_in_sync()

    def client(self, port: int) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=port, **OPTIONS)

    def wait_in_sync(self) -> None:
        """Until the replica has every write the primary acknowledged so far."""
        with redis.Redis(port=self.primary, socket_timeout=5) as conn:
            deadline = time.monotonic() + 10
            while conn.wait(1, 1000) < 1:
                assert time.monotonic() < deadline, "the replica did not catch up"

    def cut_off_replica(self) -> None:
        """The replica stops receiving writes and becomes a primary (``REPLICAOF NO ONE``),
        as a failover would promote it: whatever the primary takes afterwards, it lacks."""
        with redis.Redis(port=self.replica, socket_timeout=5) as conn:
            conn.replicaof("NO", "ONE")

    def stop(self) -> None:
        for port in (self.replica, self.primary):
            with contextlib.suppress(redis.RedisError):
                conn = redis.Redis(port=port, socket_timeout=2, retry=Retry(NoBackoff(), 0))
                conn.shutdown(nosave=True, now=True)


@contextmanager
def replicated_redis(directory: Path) -> Iterator[ReplicatedRedis]:
    pair = ReplicatedRedis(directory)
    try:
        yield pair
    finally:
        pair.stop()


class FaultyRedis:
    """A redis-server on a loopback port of its own, run as this process's child (not
    daemonized) so that it can be frozen (``SIGSTOP``) and thawed, killed (``SIGKILL``) and
    started again on the same port, empty: it keeps nothing on disk. ``DEBUG`` is enabled
    for local connections (``DEBUG SLEEP`` stalls the server)."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None
        self.start()

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def client(self, timeout: float = 5) -> redis.Redis:
        return redis.Redis(
            port=self.port, socket_timeout=timeout, socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 0),
        )  # fmt: skip

    def start(self) -> None:
        assert self.process is None or self.process.poll() is not None, "already running"
        self.directory.mkdir(parents=True, exist_ok=True)
        server, _ = binaries()
        self.process = subprocess.Popen(
            [server, "--port", str(self.port), "--bind", "127.0.0.1", "--dir", str(self.directory),
             "--save", "", "--appendonly", "no", "--enable-debug-command", "local",
             "--logfile", str(self.directory / "redis.log")],
            stdout=subprocess.DEVNULL,
        )  # fmt: skip
        wait_for(self.port)

    def _signal(self, signum: int) -> None:
        assert self.process is not None, "never started"
        assert self.process.poll() is None, "not running"
        self.process.send_signal(signum)

    def freeze(self) -> None:
        self._signal(signal.SIGSTOP)

    def thaw(self) -> None:
        self._signal(signal.SIGCONT)

    def kill(self) -> None:
        """``SIGKILL``: no shutdown, no save; the port refuses connections once it returns."""
        self._signal(signal.SIGKILL)
        assert self.process is not None
        self.process.wait(timeout=10)

    def stop(self) -> None:
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGCONT)  # a frozen server cannot act on SIGTERM
        self.process.terminate()
        try:
            self.process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(timeout=10)


@contextmanager
def faulty_redis(directory: Path) -> Iterator[FaultyRedis]:
    server = FaultyRedis(directory)
    try:
        yield server
    finally:
        server.stop()
