"""What every bench script shares: its own Redis and database, a fair timer, and gunicorn
loaded by wrk."""

from __future__ import annotations

import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

ROOT = Path(__file__).resolve().parent.parent
PG_URL = "postgres://postgres@127.0.0.1:5432/bench_redis_patterns"
# What serving on loopback needs on top of configure(): the host wrk names, cookies over
# plain http, and no Server-Timing header (the response production sends).
SERVED_ENV = {
    "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
    "DJANGO_SECURE_COOKIES": "0",
    "SERVER_TIMING": "0",
}


def postgres_listening() -> bool:
    """Does a PostgreSQL answer on 127.0.0.1:5432 (the bench then measures on it too)?"""
    try:
        socket.create_connection(("127.0.0.1", 5432), 2).close()
        return True
    except OSError:
        return False


def configure(db: str) -> None:
    os.environ.pop("REDIS_URL", None)
    os.environ["LOCAL_REDIS_DIR"] = str(ROOT / "var" / "redis-bench")
    os.environ.setdefault("DJANGO_SECRET_KEY", "bench-only")
    os.environ["DJANGO_SETTINGS_MODULE"] = "project.settings"
    os.environ["SERVER_TIMING"] = "1"  # the per-request counts come from the header
    os.environ["DJANGO_ALLOWED_HOSTS"] = "testserver"
    if db == "postgres":
        import psycopg

        with psycopg.connect("postgresql://postgres@127.0.0.1:5432/postgres", autocommit=True) as c:
            exists = c.execute("SELECT 1 FROM pg_database WHERE datname = 'bench_redis_patterns'")
            if not exists.fetchone():
                c.execute("CREATE DATABASE bench_redis_patterns")
        os.environ["DATABASE_URL"] = PG_URL
    else:
        os.environ["DATABASE_URL"] = f"sqlite:///{ROOT / 'var' / 'bench.sqlite3'}"


def interleaved(calls: dict[str, Callable[[], object]], n: int) -> dict[str, dict]:
    """Time several calls round-robin, so machine noise (CPU wake-ups on a small VM can
    swing a single GET from 25 to 110 µs between runs) hits each of them alike."""
    for _ in range(min(200, n // 5)):
        for call in calls.values():
            call()
    samples: dict[str, list[float]] = {name: [] for name in calls}
    for _ in range(n):
        for name, call in calls.items():
            start = time.perf_counter_ns()
            call()
            samples[name].append((time.perf_counter_ns() - start) / 1000)
    return {name: summary(values) for name, values in samples.items()}


def summary(samples: list[float]) -> dict:
    samples.sort()
    return {"median_us": statistics.median(samples), "p99_us": samples[int(len(samples) * 0.99)]}


def timed(call: Callable[[], object], n: int, setup: Callable[[], object] | None = None) -> dict:
    for _ in range(min(200, n // 5)):  # warm up: connections, scripts, code paths
        if setup:
            setup()
        call()
    samples = []
    for _ in range(n):
        if setup:
            setup()
        start = time.perf_counter_ns()
        call()
        samples.append((time.perf_counter_ns() - start) / 1000)
    return summary(samples)


@contextmanager
def gunicorn(workers: int, env: dict[str, str] | None = None, port: int = 8765) -> Iterator[str]:
    """gunicorn, ``workers`` sync workers on 127.0.0.1:``port``, in this process's environment
    (configure()'s Redis, database and settings module) with SERVED_ENV and ``env`` over it.
    Yields the base URL once /api/health/ answers; stopped (SIGTERM, graceful) on the way out."""
    command = [
        str(Path(sys.executable).with_name("gunicorn")), "project.wsgi",
        "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--log-level", "error",
    ]  # fmt: skip
    with served("gunicorn", command, port, env) as (base, _):
        yield base


@contextmanager
def uvicorn(
    env: dict[str, str] | None = None, port: int = 8766, log: IO[str] | None = None
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``uvicorn project.asgi:application --workers 1`` on 127.0.0.1:``port``, as gunicorn()
    (the same environment, the same start and stop); its base URL and process. With one
    worker uvicorn serves in its own process: that pid is the server to measure."""
    command = [
        sys.executable, "-m", "uvicorn", "project.asgi:application",
        "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
        "--timeout-graceful-shutdown", "3", "--log-level", "warning", "--no-access-log",
    ]  # fmt: skip
    with served("uvicorn", command, port, env, log) as started:
        yield started


@contextmanager
def served(
    name: str,
    command: list[str],
    port: int,
    env: dict[str, str] | None = None,
    log: IO[str] | None = None,
) -> Iterator[tuple[str, subprocess.Popen[bytes]]]:
    """``command``, a server that will listen on 127.0.0.1:``port``, started in this process's
    environment with SERVED_ENV and ``env`` over it (its output to ``log``, if given). Yields
    the base URL and the process once /api/health/ answers; stopped (SIGTERM, graceful, then
    SIGKILL after 30 s) on the way out."""
    with socket.socket() as probe:  # something else answering there would be measured instead
        if probe.connect_ex(("127.0.0.1", port)) == 0:
            raise RuntimeError(f"127.0.0.1:{port} is taken: a {name} left running?")
    server = subprocess.Popen(
        command, cwd=ROOT, env={**os.environ, **SERVED_ENV, **(env or {})},
        stdout=log, stderr=subprocess.STDOUT if log else None,
    )  # fmt: skip
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 30
        while True:
            if server.poll() is not None:
                raise RuntimeError(f"{name} exited {server.returncode} before it answered")
            try:
                urllib.request.urlopen(base + "/api/health/", timeout=1).close()
                break
            except OSError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.2)
        yield base, server
    finally:
        server.terminate()
        try:
            server.wait(timeout=30)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()


def wrk(url: str, seconds: int, *, cookie: str = "", lua: str = "", connections: int = 16) -> dict:
    """wrk, 2 threads, for ``seconds``; ``lua``: the text of a script (wrk.method, wrk.body…).
    Latencies as wrk prints them (p50, p99) and in µs (p50_us, p99_us)."""
    args = ["wrk", "-t2", f"-c{connections}", f"-d{seconds}s", "--latency"]
    if cookie:
        args += ["-H", f"Cookie: {cookie}"]
    with tempfile.NamedTemporaryFile("w", suffix=".lua") as script:
        if lua:
            script.write(lua)
            script.flush()
            args += ["-s", script.name]
        output = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    found = re.search(r"Requests/sec:\s+([\d.]+)", output)
    total = re.search(r"(\d+) requests in", output)
    if found is None or total is None:
        raise RuntimeError(f"wrk printed no Requests/sec:\n{output}")
    latency = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", output, re.MULTILINE))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: (.*)", output)
    return {
        "requests_per_second": float(found.group(1)),
        "requests": int(total.group(1)),
        "p50": latency.get("50"),
        "p99": latency.get("99"),
        "p50_us": _us(latency.get("50")),
        "p99_us": _us(latency.get("99")),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
        "socket_errors": errors.group(1).strip() if errors else None,
    }


def _us(latency: str | None) -> float | None:
    """wrk's "850.00us", "1.23ms", "1.02s", "2.00m" in µs."""
    if latency is None:
        return None
    found = re.fullmatch(r"([\d.]+)(us|ms|s|m|h)", latency)
    if found is None:
        raise ValueError(f"wrk latency {latency!r}")
    scale = {"us": 1, "ms": 1e3, "s": 1e6, "m": 60e6, "h": 3600e6}[found.group(2)]
    return round(float(found.group(1)) * scale, 1)


# --- Processes' CPU and the Redis server's counters (bench/hot_path.py) -------------------

CLOCK_TICKS = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def children(pid: int) -> list[int]:
    """The processes whose parent is ``pid`` (gunicorn's arbiter: its workers; uvicorn
    ``--workers N``: the supervisor's worker processes, and multiprocessing's resource
    tracker), from /proc."""
    found = []
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:  # gone meanwhile
            continue
        # pid (comm) state ppid ...: comm may hold spaces and parentheses, so split after it.
        if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
            found.append(int(entry.name))
    return sorted(found)


def command_line(pid: int) -> str:
    try:
        return (Path("/proc") / str(pid) / "cmdline").read_bytes().replace(b"\0", b" ").decode()
    except OSError:
        return ""


def cpu_seconds(pids: list[int]) -> float:
    """utime + stime of ``pids`` (each process's threads included), in seconds; a process
    gone counts 0, so compare the pids of both readings."""
    total = 0
    for pid in pids:
        try:
            fields = (Path("/proc") / str(pid) / "stat").read_text().rsplit(")", 1)[1].split()
        except OSError:
            continue
        total += int(fields[11]) + int(fields[12])  # utime, stime: fields 14 and 15 of stat
    return total / CLOCK_TICKS
