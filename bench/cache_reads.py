"""Cached user reads: Redis round trips, SQL queries and µs, against a raw redis-py GET.

    python bench/cache_reads.py [--db sqlite|postgres] [--n 2000]
    make bench-cache            # both databases, PostgreSQL when one listens on 5432

Runs in process (Django's test client: no sockets between client and app, so the numbers
are the app's own cost). Its own redis-server under var/redis-bench/, its own database
(SQLite under var/, or PostgreSQL database ``bench_redis_patterns`` with persistent
connections). Every figure is a ratio to the baseline measured in the same run.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, cast

if TYPE_CHECKING:  # Django is imported in main(), once configure() has set the environment
    from django.http.response import HttpResponseBase

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, configure, interleaved, timed


def counts(response: HttpResponseBase) -> dict:
    header = response["Server-Timing"]
    queries = re.search(r'db;desc="(\d+) quer', header)
    round_trips = re.search(r'redis;desc="(\d+) round', header)
    if queries is None or round_trips is None:
        raise RuntimeError(f"no SQL or Redis count in Server-Timing: {header!r}")
    return {
        "sql": int(queries.group(1)),
        "redis_round_trips": int(round_trips.group(1)),
        "x_cache": response.get("X-Cache"),
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=["sqlite", "postgres"], default="sqlite")
    parser.add_argument("--n", type=int, default=2000)
    args = parser.parse_args()
    configure(args.db)

    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import Client, override_settings

    from caching.services import cache_service
    from project.redis.client import get_client
    from users.cache import cached_users
    from users.models import User

    settings.THROTTLE_RATES = {}  # measure the cache: no throttle round trip in these requests
    call_command("migrate", verbosity=0)
    client = get_client()
    client.flushdb()
    User.objects.all().delete()
    users = [
        User.objects.create_user(
            username=f"bench{i}", email=f"bench{i}@example.com", password="x" * 12,
            full_name=f"Bench User {i}",
        )
        for i in range(50)
    ]  # fmt: skip
    user = users[0]
    url = f"/api/users/{user.pk}/"
    anonymous, signed_in = Client(), Client()
    signed_in.force_login(user)

    # Baseline: what one cached record costs at the floor: GET + json.loads.
    record = json.dumps(cached_users.get(user.pk, "api").value)
    client.set("bench:raw", record)
    pair = interleaved(
        {
            "raw_get_json": lambda: json.loads(cast(bytes, client.get("bench:raw"))),
            "service_hit": lambda: cached_users.get(user.pk, "api"),
        },
        args.n,
    )
    raw = pair["raw_get_json"]
    results: dict[str, dict] = {
        name: {**row, "redis_round_trips": 1, "sql": 0} for name, row in pair.items()
    }

    def commands_per_request(c: Client, path: str, setup: Callable[[], object] | None) -> float:
        """Server-side: INFO commandstats before and after 100 requests (INFO excluded)."""

        def total() -> int:
            stats = client.info("commandstats")
            return sum(v["calls"] for k, v in stats.items() if k != "cmdstat_info")

        before = total()
        for _ in range(100):
            if setup:
                setup()
            c.get(path)
        setup_commands = 0
        if setup:  # what the setup itself sent, measured alone
            mark = total()
            for _ in range(100):
                setup()
            setup_commands = total() - mark
        return round((total() - before - 2 * setup_commands) / 100, 2)

    def request(
        c: Client, name: str, setup: Callable[[], object] | None = None, path: str = url
    ) -> None:
        if setup:
            setup()
        results[name] = {**timed(lambda: c.get(path), args.n, setup), **counts(c.get(path))}
        if setup:  # the counts of a request after setup, not of the hit that follows
            setup()
            results[name].update(counts(c.get(path)))
        results[name]["redis_commands"] = commands_per_request(c, path, setup)

    def invalidate() -> None:
        cache_service.invalidate(cached_users.key(user.pk, "api"), version=user.version, ttl=300)

    request(anonymous, "http_hit_anonymous")
    request(signed_in, "http_hit_signed_in")
    request(anonymous, "http_miss_anonymous", setup=invalidate)
    request(anonymous, "http_list_hit_anonymous", path="/api/users/")
    with override_settings(CACHE_ENABLED=False):
        request(anonymous, "http_uncached_anonymous")
        request(signed_in, "http_uncached_signed_in")
        request(anonymous, "http_list_uncached_anonymous", path="/api/users/")

    base = raw["median_us"]
    for row in results.values():
        row["x_raw_get"] = round(row["median_us"] / base, 2)
    for name, row in results.items():
        if name.startswith("http_"):  # against the uncached read by the same kind of client
            viewer = "signed_in" if name.endswith("signed_in") else "anonymous"
            kind = "list_uncached" if "_list_" in name else "uncached"
            uncached = results[f"http_{kind}_{viewer}"]["median_us"]
            row["speedup_vs_uncached"] = round(uncached / row["median_us"], 2)

    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / f"cache_reads-{args.db}.json").write_text(json.dumps(results, indent=2))
    print(f"\ncache reads on {args.db}, n={args.n} (median/p99 µs; ratios to a raw GET+decode)")
    columns = ("median", "p99", "xGET", "RTs", "SQL", "vs uncached")
    print(f"{'scenario':26} " + " ".join(f"{c:>6}" for c in columns))
    for name, row in results.items():
        print(
            f"{name:26} {row['median_us']:6.1f} {row['p99_us']:6.1f} {row['x_raw_get']:6.2f} "
            f"{row['redis_round_trips']:6} {row['sql']:6} {row.get('speedup_vs_uncached', ''):>11}"
        )


if __name__ == "__main__":
    main()
