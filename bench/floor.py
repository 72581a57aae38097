"""The physical floor on this machine: raw redis-py PING, GET and a no-op EVALSHA, timed
round-robin on the bench's Redis. Every other scenario is a multiple of these.

    python bench/floor.py          (make bench runs it)
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, configure, interleaved


def main() -> None:
    configure("sqlite")
    import django

    django.setup()
    from project.redis.client import get_client

    client = get_client()
    client.set("bench:floor", "x" * 300)
    noop = client.register_script("return 1")
    noop()  # load it: what follows is EVALSHA
    timings = interleaved(
        {
            "ping": client.ping,
            "get": lambda: client.get("bench:floor"),
            "evalsha_noop": lambda: noop(),
        },
        5000,
    )
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "floor.json").write_text(json.dumps(timings, indent=2))
    for name, row in timings.items():
        print(f"{name:14} median {row['median_us']:.1f} µs, p99 {row['p99_us']:.1f} µs")


if __name__ == "__main__":
    main()
