"""How cost grows with the work: throttle µs at limits 10 / 1,000 / 10,000 (a full window),
cache hit µs with 1,000 and 100,000 cached users, Redis memory per 10,000 cached users.

    python bench/growth.py          (make bench runs it)
"""

from __future__ import annotations

import json
import random
import secrets
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, configure, timed


def main() -> None:
    configure("sqlite")
    import django

    django.setup()
    from caching import keys
    from caching.services import cache_service
    from project.redis.client import get_client
    from ratelimit.scripts import sliding_window

    client = get_client()
    client.flushdb()
    report: dict = {"throttle_full_window": {}, "cache_hit": {}}

    for limit in (10, 1_000, 10_000):
        key = f"bench:growth:throttle:{limit}"
        for _ in range(limit):  # fill the window: every further check is refused
            sliding_window(client, key, limit=limit, window=3600, member=secrets.token_hex(8))

        def check(key: str = key, limit: int = limit) -> object:
            return sliding_window(
                client, key, limit=limit, window=3600, member=secrets.token_hex(8)
            )

        report["throttle_full_window"][limit] = timed(check, 3000)

    record = {"id": 0, "username": "u", "email": "u@example.com", "full_name": "Some Body",
              "date_joined": "2026-01-01T00:00:00Z", "profile_views": 0, "login_count": 0,
              "points": 0}  # fmt: skip
    written = 0
    for users in (1_000, 100_000):
        before = client.info("memory")["used_memory"]
        batch = []
        for user_id in range(written, users):
            batch.append((keys.entry("user", user_id, "api", 1), {**record, "id": user_id}, 1))
            if len(batch) == 1000:
                cache_service.write_through_many(batch, ttl=3600)
                batch = []
        cache_service.write_through_many(batch, ttl=3600)
        grown = users - written
        per_10k = (client.info("memory")["used_memory"] - before) / grown * 10_000
        written = users

        def hit(users: int = users) -> object:
            user_id = random.randrange(users)
            return cache_service.get(keys.entry("user", user_id, "api", 1), lambda: None, ttl=3600)

        report["cache_hit"][users] = {**timed(hit, 3000), "memory_per_10k_users": round(per_10k)}

    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "growth.json").write_text(json.dumps(report, indent=2))
    for limit, row in report["throttle_full_window"].items():
        print(f"throttle, window of {limit:>6}: median {row['median_us']:.0f} µs")
    for users, row in report["cache_hit"].items():
        print(
            f"cache hit, {users:>7} users: median {row['median_us']:.0f} µs, "
            f"{row['memory_per_10k_users']} bytes per 10k users"
        )


if __name__ == "__main__":
    main()
