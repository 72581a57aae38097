"""Sessions: Redis round trips and µs of load, changed save and unchanged save, for this
engine and Django's ``cache`` backend on django-redis, timed round-robin in one run.

    python bench/sessions.py [--n 3000]      (or: make bench-sessions)
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from collections.abc import Callable
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, configure, summary

# An operation: prepare() (untimed) returns the call to time.
Operation = Callable[[], Callable[[], object]]


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--n", type=int, default=3000)
    args = parser.parse_args()
    configure("sqlite")

    import django

    django.setup()
    from django.conf import settings
    from django.contrib.sessions.backends.cache import SessionStore as CacheStore

    from project.redis.client import get_client
    from project.redis.timing import Recorder, _current
    from sessions.backends.redis import SessionStore as RedisStore

    settings.SESSION_LAST_SEEN_INTERVAL = 10**9  # time the load, not the once-a-minute touch
    get_client().flushdb()
    data = {"_auth_user_id": "42", "_auth_user_backend": "x", "_auth_user_hash": "h" * 64}
    counter = iter(range(10**9))
    operations: dict[str, Operation] = {}
    for name, store_class in {"ours": RedisStore, "django_cache": CacheStore}.items():
        store = store_class()
        store.update(data)
        store.save()
        key = store.session_key

        def load(cls: type = store_class, key: str | None = key) -> Callable[[], object]:
            return cls(key).load

        def save(cls: type = store_class, key: str | None = key, change: bool = False) -> Callable:
            session = cls(key)
            session.get("_auth_user_id")  # loaded, as in a request
            if change:
                session["n"] = next(counter)
            return session.save

        operations[f"{name}_load"] = load

        def changed_save(save: Callable[..., Callable] = save) -> Callable:
            return save(change=True)

        operations[f"{name}_changed_save"] = changed_save
        operations[f"{name}_unchanged_save"] = save

    samples: dict[str, list[float]] = {name: [] for name in operations}
    for i in range(args.n + 200):
        for name, prepare in operations.items():
            call = prepare()
            start = time.perf_counter_ns()
            call()
            if i >= 200:  # after warm-up
                samples[name].append((time.perf_counter_ns() - start) / 1000)

    report = {}
    for name, prepare in operations.items():
        call, recorder = prepare(), Recorder()
        token = _current.set(recorder)
        call()
        _current.reset(token)
        report[name] = {**summary(samples[name]), "redis_round_trips": recorder.round_trips}

    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "sessions.json").write_text(json.dumps(report, indent=2))
    print(f"\nsessions, n={args.n} (µs of the operation alone; round trips per operation)")
    print(f"{'operation':28} {'median':>7} {'p99':>7} {'RTs':>4} {'django / ours':>14}")
    for name, row in report.items():
        ratio = ""
        if name.startswith("ours_"):
            twin = report[name.replace("ours_", "django_cache_")]
            ratio = f"{twin['median_us'] / row['median_us']:.2f}"
        print(
            f"{name:28} {row['median_us']:7.1f} {row['p99_us']:7.1f} "
            f"{row['redis_round_trips']:4} {ratio:>14}"
        )


if __name__ == "__main__":
    main()
