"""Throttles side by side on one Redis, in one run: this project's, the guide's (as written,
and with its member bug fixed), DRF's ``SimpleRateThrottle`` on django-redis, and the
``limits`` library's moving window (installed in the bench environment only).

    python bench/throttle.py          (or: make bench-throttle)

For each: admitted of 1000 attempts at 32 threads, and from 4 processes × 8 threads, for a
limit of 100 (correct: 100 both times), Redis
round trips per check, median/p99 µs per check single-threaded (timed round-robin, as
ratios to ours), and memory per key holding 100 and 10,000 requests (``MEMORY USAGE``).
"""

from __future__ import annotations

import argparse
import json
import multiprocessing
import secrets
import sys
import threading
from collections.abc import Callable
from pathlib import Path

from redis import Redis

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, configure, interleaved

Check = Callable[[str, int], bool]  # (key, limit) → admitted; window 60 s


def implementations() -> dict[str, Check]:
    from django.core.cache import cache as django_cache
    from django.http import HttpRequest
    from limits import RateLimitItemPerMinute
    from limits.storage import RedisStorage
    from limits.strategies import MovingWindowRateLimiter
    from rest_framework.request import Request
    from rest_framework.throttling import SimpleRateThrottle
    from rest_framework.views import APIView

    from project.redis.client import get_client
    from ratelimit.scripts import sliding_window

    client = get_client()

    def ours(key: str, limit: int) -> bool:
        return sliding_window(
            client, key, limit=limit, window=60, member=secrets.token_hex(8)
        ).admitted

    def guide(key: str, limit: int, *, unique: bool = False) -> bool:
        # The guide's code, made sync: TIME, trim, count, add, expire; 5 round trips.
        now = client.time()[0]
        client.zremrangebyscore(key, 0, now - 60)
        if client.zcard(key) < limit:
            member = f"{now}-{secrets.token_hex(8)}" if unique else str(now)
            client.zadd(key, {member: now})
            client.expire(key, 60)
            return True
        return False

    class DRF(SimpleRateThrottle):
        cache = django_cache

        def __init__(self, key: str, limit: int) -> None:
            self.rate = f"{limit}/min"
            self.num_requests, self.duration = self.parse_rate(self.rate)
            self._key = key

        def get_cache_key(self, request: object, view: object) -> str:
            return self._key

    # allow_request() only hands these to get_cache_key(), which ignores them: built once.
    request, view = Request(HttpRequest()), APIView()

    def drf(key: str, limit: int) -> bool:
        return DRF(key, limit).allow_request(request, view)  # a fresh instance per request

    storage = RedisStorage("redis://unused", connection_pool=client.connection_pool)
    moving_window = MovingWindowRateLimiter(storage)
    items: dict[int, RateLimitItemPerMinute] = {}

    def limits_moving_window(key: str, limit: int) -> bool:
        item = items.setdefault(limit, RateLimitItemPerMinute(limit))
        return moving_window.hit(item, key)

    return {
        "ours": ours,
        "guide_as_written": guide,
        "guide_unique_member": lambda key, limit: guide(key, limit, unique=True),
        "drf_simple_rate": drf,
        "limits_moving_window": limits_moving_window,
    }


def admitted_at(check: Check, key: str, *, attempts: int = 1000, threads: int = 32) -> int:
    barrier = threading.Barrier(threads)
    counts: list[int] = []
    lock = threading.Lock()

    def worker(share: int) -> None:
        barrier.wait()
        passed = sum(check(key, 100) for _ in range(share))
        with lock:
            counts.append(passed)

    shares = [attempts // threads + (i < attempts % threads) for i in range(threads)]
    pool = [threading.Thread(target=worker, args=(share,)) for share in shares]
    for thread in pool:
        thread.start()
    for thread in pool:
        thread.join()
    return sum(counts)


def admitted_across_processes(
    check: Check, key: str, *, processes: int = 4, threads: int = 8, attempts: int = 1000
) -> int:
    """The same, from ``processes`` forked processes of ``threads`` threads each."""
    ctx = multiprocessing.get_context("fork")
    start, results = ctx.Barrier(processes), ctx.Queue()

    def child() -> None:
        start.wait()  # redis-py pools notice the fork and open their own connections
        results.put(admitted_at(check, key, attempts=attempts // processes, threads=threads))

    children = [ctx.Process(target=child) for _ in range(processes)]
    for process in children:
        process.start()
    total = sum(results.get(timeout=120) for _ in children)
    for process in children:
        process.join(timeout=30)
    return total


def memory_of(check: Check, key: str, limit: int, client: Redis) -> int | None:
    """Bytes Redis holds for one client who made ``limit`` requests (all keys it touched)."""
    for _ in range(limit):
        check(key, limit)
    keys = list(client.scan_iter(match=f"*{key}*"))  # bench tooling: SCAN is fine here
    return sum(client.memory_usage(k) or 0 for k in keys) if keys else None


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=3000)
    args = parser.parse_args()
    configure("sqlite")

    import django

    django.setup()
    from project.redis.client import get_client
    from project.redis.timing import Recorder, _current

    client = get_client()
    client.flushdb()
    checks = implementations()
    report: dict[str, dict] = {name: {} for name in checks}

    for name, check in checks.items():
        report[name]["admitted_of_1000_at_32_threads"] = admitted_at(check, f"bench:adm:{name}")
        report[name]["admitted_of_1000_4_processes_x_8_threads"] = admitted_across_processes(
            check, f"bench:admp:{name}"
        )
        recorder = Recorder()
        token = _current.set(recorder)
        check(f"bench:rt:{name}", 100)
        _current.reset(token)
        report[name]["round_trips_per_check"] = recorder.round_trips

    # Single-threaded µs: a fresh key every 50 checks, so every check is an admission into
    # a set of at most 50 entries, the same work for everyone.
    counters = {name: iter(range(10**9)) for name in checks}

    def timed_check(name: str) -> Callable[[], object]:
        check, counter = checks[name], counters[name]
        return lambda: check(f"bench:t:{name}:{next(counter) // 50}", 100)

    timings = interleaved({name: timed_check(name) for name in checks}, args.n)
    base = timings["ours"]["median_us"]
    for name in checks:
        report[name].update(timings[name])
        report[name]["median_vs_ours"] = round(timings[name]["median_us"] / base, 2)

    for limit in (100, 10_000):
        for name, check in checks.items():
            report[name][f"memory_bytes_at_{limit}"] = memory_of(
                check, f"bench:mem{limit}:{name}", limit, client
            )

    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "throttle.json").write_text(json.dumps(report, indent=2))
    print(f"\nthrottles, limit 100/min; µs single-threaded over n={args.n} (round-robin)")
    header = f"{'implementation':22} {'admitted':>8} {'RTs':>4} {'median':>7} {'p99':>7}"
    print(header + f" {'x ours':>7} {'mem@100':>8} {'mem@10k':>8}")
    for name, row in report.items():
        print(
            f"{name:22} {row['admitted_of_1000_at_32_threads']:8} "
            f"{row['round_trips_per_check']:4} {row['median_us']:7.1f} {row['p99_us']:7.1f} "
            f"{row['median_vs_ours']:7.2f} {row['memory_bytes_at_100']!s:>8} "
            f"{row['memory_bytes_at_10000']!s:>8}"
        )


if __name__ == "__main__":
    main()
