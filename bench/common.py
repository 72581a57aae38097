"""What every bench script shares: its own Redis and database, and a fair timer."""

from __future__ import annotations

import os
import statistics
import time
from collections.abc import Callable
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
PG_URL = "postgres://postgres@127.0.0.1:5432/bench_redis_patterns"


def postgres_listening() -> bool:
    """Does a PostgreSQL answer on 127.0.0.1:5432 (the bench then measures on it too)?"""
    import socket

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
