"""Cluster against standalone, in one run: a cached user read (the cache service's hit),
a throttle check and a session load/save, in round trips and µs.

    python bench/topologies.py          (or: make bench-topologies)

Starts a local 3-primary cluster (scripts/topology.py) beside the bench's standalone
server, switches the app between them with override_settings, and stops the cluster.
"""

from __future__ import annotations

import json
import secrets
import sys
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, configure, interleaved
from scripts import topology


def main() -> None:
    configure("sqlite")
    import django

    django.setup()
    from django.conf import settings
    from django.core.management import call_command
    from django.test import override_settings

    from project.redis.client import get_client
    from project.redis.config import cache_location_and_options, parse
    from project.redis.timing import Recorder, _current
    from ratelimit.scripts import sliding_window
    from sessions.backends.redis import SessionStore
    from users.cache import cached_users
    from users.models import User

    call_command("migrate", verbosity=0)
    user = User.objects.first() or User.objects.create_user("topo", "topo@example.com", "x" * 12)
    settings.SESSION_LAST_SEEN_INTERVAL = 10**9
    cluster_url = topology.cluster_start()
    urls = {"standalone": settings.REDIS_URL, "cluster": cluster_url}
    report: dict[str, dict] = {}
    try:
        for name, url in urls.items():
            location, options = cache_location_and_options(parse(url))
            default = settings.CACHES["default"]
            merged = {**default["OPTIONS"], **options}
            caches = {"default": {**default, "LOCATION": location, "OPTIONS": merged}}
            with override_settings(REDIS_URL=url, CACHES=caches):
                cached_users.get(user.pk, "api")  # fill
                session = SessionStore()
                session.update({"_auth_user_id": str(user.pk)})
                session.save()
                key = session.session_key

                def load(key: str | None = key) -> object:
                    return SessionStore(key).load()

                def save_unchanged(key: str | None = key) -> None:
                    store = SessionStore(key)
                    store.get("_auth_user_id")
                    store.save()

                calls: dict[str, Callable[[], object]] = {
                    "cache_hit": lambda: cached_users.get(user.pk, "api"),
                    "throttle_check": lambda: sliding_window(
                        get_client(),
                        "bench:topo:throttle",
                        limit=10**9,
                        window=60,
                        member=secrets.token_hex(8),
                    ),
                    "session_load": load,
                    "session_load_and_unchanged_save": save_unchanged,
                }
                timings = interleaved(calls, 2000)
                for scenario, call in calls.items():
                    recorder = Recorder()
                    token = _current.set(recorder)
                    call()
                    _current.reset(token)
                    report.setdefault(scenario, {})[name] = {
                        **timings[scenario],
                        "round_trips": recorder.round_trips if name == "standalone" else None,
                    }
    finally:
        topology.cluster_stop()

    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "topologies.json").write_text(json.dumps(report, indent=2))
    print("\ncluster vs standalone (median µs, n=2000, round-robin within each topology)")
    for scenario, row in report.items():
        ratio = row["cluster"]["median_us"] / row["standalone"]["median_us"]
        print(
            f"{scenario:34} standalone {row['standalone']['median_us']:7.1f}  "
            f"cluster {row['cluster']['median_us']:7.1f}  x{ratio:.2f}  "
            f"(round trips {row['standalone']['round_trips']})"
        )


if __name__ == "__main__":
    main()
