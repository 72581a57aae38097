"""Redis servers of a test's own, for what must not happen to the suite's shared server:
a crash and a restart from a snapshot, a replica promoted over its primary."""

from __future__ import annotations

import contextlib
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
from scripts.topology import start_server
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
