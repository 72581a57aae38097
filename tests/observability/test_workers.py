"""``/metrics`` under gunicorn with two workers: every scrape, whichever worker answers it,
gives the count of both (gunicorn.conf.py's multiprocess directory)."""

from __future__ import annotations

import json
import os
import urllib.request
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from prometheus_client.mmap_dict import MmapedDict
from prometheus_client.parser import text_string_to_metric_families

from tests.integration.servers import Browser, gunicorns, migrate

pytestmark = pytest.mark.redis

TOKEN = "workers-scrape"


def per_worker(folder: Path) -> dict[str, float]:
    """What each worker's own file holds of ``user-detail`` 200s: the counts a scrape sums."""
    counts = {}
    for path in folder.glob("counter_*.db"):
        total = 0.0
        for key, value, _ in MmapedDict(str(path), read_mode=True).read_all_values():
            _, name, labels, _ = json.loads(key)
            if name == "app_http_requests_total" and labels.get("endpoint") == "user-detail":
                total += value
        counts[path.stem.split("_", 1)[1]] = total
    return counts


def scraped(base: str) -> float:
    request = urllib.request.Request(
        base + "/metrics", headers={"Authorization": f"Bearer {TOKEN}"}
    )
    with urllib.request.urlopen(request, timeout=10) as response:
        text = response.read().decode()
    return sum(
        sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
        if sample.name == "app_http_requests_total"
        and sample.labels.get("endpoint") == "user-detail"
    )


def test_every_scrape_sums_both_workers(tmp_path: Path) -> None:
    folder = tmp_path / "metrics"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "REDIS_KEY_PREFIX": "workers",
        "METRICS_TOKEN": TOKEN,
        "PROMETHEUS_MULTIPROC_DIR": str(folder),
        "THROTTLE_RATES": "anon=100000/min",
    }
    migrate(env)
    with gunicorns(env, count=1, workers=2) as (base,):
        browser = Browser()
        user = {"username": "counted", "email": "c@example.com", "password": "a-Long-pass-123"}
        status, created = browser.call(base, "POST", "/api/users/", user)
        assert status == 201, created
        path = f"/api/users/{created['id']}/"
        reads = 0
        # Read 8 at a time until both workers served some: one after another, the worker that
        # just answered may win every accept (it did, 500 times, in one CI run).
        with ThreadPoolExecutor(8) as pool:
            while len([n for n in per_worker(folder).values() if n]) < 2:
                assert reads < 2000, f"one worker served {reads} reads: {per_worker(folder)}"
                statuses = list(pool.map(lambda _: Browser().call(base, "GET", path)[0], range(8)))
                assert statuses == [200] * 8
                reads += 8
        shares = per_worker(folder)
        assert sum(shares.values()) == reads
        assert all(share < reads for share in shares.values())  # neither alone is the answer
        for _ in range(8):  # each scrape lands on either worker
            assert scraped(base) == reads
