"""Real servers for the black-box tests: gunicorn instances, and a browser that speaks to them."""

from __future__ import annotations

import functools
import http.client
import http.cookiejar
import json
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from collections.abc import Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from email.message import Message
from pathlib import Path
from typing import IO, Any

from project.redis.local import BASE_DIR


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def migrate(env: Mapping[str, str]) -> None:
    subprocess.run(
        [sys.executable, "manage.py", "migrate", "--noinput", "-v0"],
        cwd=BASE_DIR, env=env, check=True,
    )  # fmt: skip


def shell(env: Mapping[str, str], code: str) -> str:
    """Run ``code`` in ``manage.py shell`` in a fresh process with ``env``; its output."""
    result = subprocess.run(
        [sys.executable, "manage.py", "shell", "-v", "0", "-c", code],
        cwd=BASE_DIR, env=dict(env), capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return result.stdout


@contextmanager
def gunicorns(
    env: Mapping[str, str],
    *,
    count: int,
    workers: int,
    logs: Sequence[Path] = (),
    options: Sequence[str] = (),
) -> Iterator[list[str]]:
    """``count`` gunicorn instances of ``workers`` sync workers each, on free loopback ports,
    answering ``/api/health/``; their base URLs. Each writes to its log, if given; ``options``
    are more gunicorn command-line options (an access log, say)."""
    env = {"DJANGO_SECURE_COOKIES": "0", **env}  # plain http on loopback: cookies must flow
    ports = [free_port() for _ in range(count)]
    gunicorn = Path(sys.executable).with_name("gunicorn")
    command = [str(gunicorn), "project.wsgi", "--workers", str(workers), "--log-level", "warning"]
    command += options
    with ExitStack() as files:  # each child keeps its own copy of its log's descriptor
        outputs: list[IO[str] | None] = [files.enter_context(log.open("w")) for log in logs]
        outputs = outputs or [None] * count
        processes = [
            subprocess.Popen(
                [*command, "--bind", f"127.0.0.1:{port}"], cwd=BASE_DIR, env=dict(env),
                stdout=output, stderr=subprocess.STDOUT if output else None,
            )
            for port, output in zip(ports, outputs, strict=True)
        ]  # fmt: skip
    bases = [f"http://127.0.0.1:{port}" for port in ports]
    try:
        for base in bases:
            wait_until_up(base)
        yield bases
    finally:
        for process in processes:
            process.terminate()
        for process in processes:
            process.wait(timeout=10)


@contextmanager
def uvicorn(
    env: Mapping[str, str], *, workers: int = 1, log: Path | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``uvicorn project.asgi:application`` on a free loopback port, as the docs run it;
    its base URL and process (a test may stop it itself)."""
    port = free_port()
    command = [
        sys.executable, "-m", "uvicorn", "project.asgi:application", "--port", str(port),
        "--workers", str(workers), "--timeout-graceful-shutdown", "3", "--log-level", "warning",
    ]  # fmt: skip
    with ExitStack() as files:
        output = files.enter_context(log.open("w")) if log else None
        process = subprocess.Popen(
            command, cwd=BASE_DIR, env={"DJANGO_SECURE_COOKIES": "0", **env},
            stdout=output, stderr=subprocess.STDOUT if output else None,
        )  # fmt: skip
    base = f"http://127.0.0.1:{port}"
    try:
        wait_until_up(base)
        yield base, process
    finally:
        if process.poll() is None:
            process.terminate()
            process.wait(timeout=15)


def wait_until_up(base: str, *, timeout: float = 20) -> None:
    deadline = time.monotonic() + timeout
    while True:
        try:
            urllib.request.urlopen(base + "/api/health/", timeout=1).close()
            return
        except OSError:
            assert time.monotonic() < deadline, f"{base} did not start"
            time.sleep(0.1)


class Browser:
    """A cookie-keeping HTTP client that sends the CSRF header like a SPA would.

    ``source`` is the loopback address it connects from (any of 127.0.0.0/8 on Linux), so
    that the app sees clients at addresses of their own (``REMOTE_ADDR``: the per-address
    throttles); it may be changed between requests. ``timeout`` bounds each request."""

    def __init__(self, *, source: str | None = None, timeout: float = 10) -> None:
        self.jar = http.cookiejar.CookieJar()
        self.source = source
        self.timeout = timeout
        self.opener = urllib.request.build_opener(
            urllib.request.HTTPCookieProcessor(self.jar), _FromSource(self)
        )

    def call(self, base: str, method: str, path: str, body: Any = None) -> tuple[int, Any]:
        status, data, _ = self.request(base, method, path, body)
        return status, data

    def request(
        self, base: str, method: str, path: str, body: Any = None
    ) -> tuple[int, Any, Message]:
        """Status, body (JSON, or text such as Django's plain 500 page) and headers."""
        headers = {"Content-Type": "application/json", "Accept": "application/json"}
        token = next((c.value for c in self.jar if c.name == "csrftoken"), None)
        if token:
            headers["X-CSRFToken"] = token
            headers["Referer"] = base
        data = json.dumps(body).encode() if body is not None else None
        request = urllib.request.Request(base + path, data=data, method=method, headers=headers)
        try:
            with self.opener.open(request, timeout=self.timeout) as response:
                return response.status, _decode(response.read()), response.headers
        except urllib.error.HTTPError as error:
            return error.code, _decode(error.read()), error.headers


class _FromSource(urllib.request.HTTPHandler):
    """Plain http from the browser's ``source`` address (the system's choice when None)."""

    def __init__(self, browser: Browser) -> None:
        super().__init__()
        self.browser = browser

    def http_open(self, req: urllib.request.Request) -> http.client.HTTPResponse:
        source = self.browser.source
        if source is None:
            return super().http_open(req)
        connect = functools.partial(http.client.HTTPConnection, source_address=(source, 0))
        return self.do_open(connect, req)


def _decode(raw: bytes) -> Any:
    try:
        return json.loads(raw) if raw else None
    except ValueError:
        return raw.decode(errors="replace")
