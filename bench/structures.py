"""Data structures: the write-back flush, the lock, the leaderboard.

    python bench/structures.py          (or: make bench-structures)

- 100,000 profile views over 1,000 users, then one flush: database writes and time;
- lock acquire + release: round trips and µs;
- leaderboard top-10 and one user's rank, µs, with 10,000 and 100,000 users on the board.
"""

from __future__ import annotations

import json
import random
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, configure, timed


def main() -> None:
    configure("sqlite")

    import django

    django.setup()
    from django.core.management import call_command
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    from project.locks.lock import Lock
    from project.redis.client import get_client
    from project.redis.timing import Recorder, _current
    from users import counters, keys, leaderboard
    from users.models import CounterFlush, User

    call_command("migrate", verbosity=0)
    client = get_client()
    client.flushdb()
    User.objects.all().delete()
    CounterFlush.objects.all().delete()
    User.objects.bulk_create(
        [User(username=f"b{i}", email=f"b{i}@example.com", password="!") for i in range(1000)],
        batch_size=500,
    )
    ids = list(User.objects.values_list("pk", flat=True))
    report: dict[str, dict] = {}

    # --- write-back: 100,000 views over 1,000 users, one flush -------------------------
    begin = time.perf_counter()
    pipe = client.pipeline(transaction=False)
    for n in range(100_000):
        pipe.hincrby(keys.counters_pending(), f"{ids[n % len(ids)]}:v", 1)
        if n % 1000 == 999:
            pipe.execute()
    counting = time.perf_counter() - begin
    with CaptureQueriesContext(connection) as queries:
        begin = time.perf_counter()
        result = counters.flush()
        flushing = time.perf_counter() - begin
    writes = [q["sql"] for q in queries if q["sql"].split()[0] in {"INSERT", "UPDATE", "DELETE"}]
    total = sum(User.objects.values_list("profile_views", flat=True))
    report["write_back"] = {
        "increments": result.increments,
        "users": result.users,
        "counted_in_db_after_flush": total,
        "db_statements": len(queries),
        "db_writes": len(writes),
        "flush_ms": round(flushing * 1000, 1),
        "counting_100k_pipelined_ms": round(counting * 1000, 1),
    }

    # --- lock ---------------------------------------------------------------------------
    lock = Lock("bench", ttl=10)

    def acquire_release() -> None:
        grant = lock.acquire()
        lock.release(grant)  # type: ignore[arg-type]

    recorder = Recorder()
    token = _current.set(recorder)
    acquire_release()
    _current.reset(token)
    report["lock_acquire_release"] = {
        **timed(acquire_release, 3000),
        "redis_round_trips": recorder.round_trips,
    }

    # --- leaderboard ----------------------------------------------------------------------
    for size in (10_000, 100_000):
        client.delete(keys.leaderboard())
        pipe = client.pipeline(transaction=False)
        for user_id in range(1, size + 1):
            pipe.zadd(keys.leaderboard(), {leaderboard.member(user_id): random.randint(0, 10**6)})
            if user_id % 5000 == 0:
                pipe.execute()
        pipe.execute()

        def rank_of_someone(size: int = size) -> object:
            return leaderboard.standing(random.randint(1, size))

        report[f"leaderboard_{size}"] = {
            "top10": timed(lambda: leaderboard.top(limit=10, offset=0), 3000),
            "rank": timed(rank_of_someone, 3000),
            "memory_bytes": client.memory_usage(keys.leaderboard()),
        }

    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "structures.json").write_text(json.dumps(report, indent=2))
    wb = report["write_back"]
    print(
        f"\nwrite-back: {wb['increments']} increments over {wb['users']} users flushed in "
        f"{wb['flush_ms']} ms with {wb['db_writes']} database writes "
        f"({wb['db_statements']} statements in all); {wb['counted_in_db_after_flush']} in the db"
    )
    lk = report["lock_acquire_release"]
    print(
        f"lock acquire+release: {lk['redis_round_trips']} round trips, "
        f"median {lk['median_us']:.0f} µs, p99 {lk['p99_us']:.0f} µs"
    )
    for size in (10_000, 100_000):
        row = report[f"leaderboard_{size}"]
        print(
            f"leaderboard {size:>7} users: top-10 median {row['top10']['median_us']:.0f} µs, "
            f"rank median {row['rank']['median_us']:.0f} µs, {row['memory_bytes']} bytes"
        )


if __name__ == "__main__":
    main()
