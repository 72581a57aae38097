"""Read-your-writes across processes while Redis stalls: a read/write storm.

Two gunicorn instances (two sync workers each, so four processes) share one SQLite file and
one redis-server of this test's own. Four writers, each signed in as their own user, PATCH
their ``full_name`` to ``w<k>-1``, ``w<k>-2``, ... through either instance; a 2xx is an
acknowledgment, anything else (a 503 when the cache cannot be told) is retried with the same
value. Eight anonymous readers GET the four users from both instances, as fast as they can.
Meanwhile a pauser runs ``CLIENT PAUSE 300 WRITE`` on the Redis every second: reads still
reach it, but writes (write-throughs, invalidations, fills) stall longer than the project's
socket timeout (0.25 s), so they time out in the middle of requests.

The promise under test: once a write is acknowledged, no process serves what it replaced.
A *violation* is a read of user ``u`` that started after the acknowledgment of value ``n``
for ``u`` and returned an older value ``m < n``. Each user has one sequential writer, so
values only grow and "started after the acknowledgment" (both on this process's monotonic
clock) means the write was committed before the read reached any server: any reader, on
any instance, in any worker, must see ``n`` or newer. A write-through that times out after
the commit must therefore not leave the old entry current in Redis for the other processes.

Reads never fail because of Redis (they fall back to the database); writes may be refused.
"""

from __future__ import annotations

import bisect
import os
import re
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import partial
from pathlib import Path
from typing import Any

import pytest

from project.redis.local import LocalRedis
from tests.integration.servers import Browser, gunicorns, migrate

pytestmark = pytest.mark.redis

PASSWORD = "correct-Horse-battery-9"
WRITERS = 4
READERS = 8
STORM_SECONDS = 8.0
PAUSE_EVERY = 1.0  # seconds between pauses
PAUSE_MS = 300  # longer than REDIS_SOCKET_TIMEOUT (0.25 s): stalled writes time out
RETRY_PAUSE = 0.05
NAME = re.compile(r"^w\d+-(\d+)$")


@pytest.fixture
def storm_redis(tmp_path: Path) -> Iterator[LocalRedis]:
    """A redis-server of this test's own (CLIENT PAUSE must not stall anyone else's)."""
    server = LocalRedis(tmp_path / "redis", persistent=False)
    server.ensure_running()
    try:
        yield server
    finally:
        server.stop()


@dataclass(frozen=True)
class Cluster:
    bases: tuple[str, str]
    logs: tuple[Path, Path]


@pytest.fixture
def instances(tmp_path: Path, storm_redis: LocalRedis) -> Iterator[Cluster]:
    """Two gunicorn instances, two sync workers each, on the test's Redis and one SQLite."""
    database = tmp_path / "shared.sqlite3"
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{database}",
        "REDIS_URL": storm_redis.url,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "THROTTLE_RATES": "anon=1000000/min,user=1000000/min,login=1000/min",
        "REDIS_KEY_PREFIX": "storm",
    }
    migrate(env)
    logs = (tmp_path / "gunicorn-a.log", tmp_path / "gunicorn-b.log")
    with gunicorns(env, count=2, workers=2, logs=logs) as bases:
        yield Cluster((bases[0], bases[1]), logs)


@dataclass(frozen=True)
class Ack:
    n: int
    at: float  # monotonic time the 2xx arrived


@dataclass(frozen=True)
class Read:
    user: int
    base: str
    started: float  # monotonic time the request was sent
    status: int
    value: int  # the n in the returned full_name (0 before the first write); -1 if not a 200
    cache: str  # X-Cache: HIT, MISS or BYPASS


def sign_up(base: str, k: int) -> tuple[int, Browser]:
    """Register user ``k`` and sign in: their id and their signed-in browser."""
    browser = Browser()
    user = {"username": f"storm{k}", "email": f"storm{k}@example.com", "password": PASSWORD}
    status, created, _ = browser.request(base, "POST", "/api/users/", user)
    assert status == 201, created
    browser.request(base, "GET", "/api/auth/csrf/")
    status, body, _ = browser.request(
        base, "POST", "/api/auth/login/", {"username": user["username"], "password": PASSWORD}
    )
    assert status == 200, body
    return created["id"], browser


def value_of(body: Any) -> int:
    """The n of ``w<k>-<n>``, 0 for the empty name a user starts with."""
    name = body["full_name"]
    if name == "":
        return 0
    match = NAME.match(name)
    assert match, f"unexpected full_name {name!r}"
    return int(match.group(1))


def find_violations(acks: dict[int, list[Ack]], reads: list[Read]) -> list[tuple[Read, Ack]]:
    """Reads that started after a value was acknowledged and returned an older one."""
    times = {user: [ack.at for ack in history] for user, history in acks.items()}
    found = []
    for read in reads:
        if read.status != 200:
            continue
        acked = bisect.bisect_left(times[read.user], read.started)  # acks before the read
        if acked and read.value < acks[read.user][acked - 1].n:
            found.append((read, acks[read.user][acked - 1]))
    return found


def test_a_write_acknowledged_is_read_by_every_process_while_redis_stalls(
    instances: Cluster, storm_redis: LocalRedis
) -> None:
    bases = instances.bases
    users = [sign_up(bases[k % 2], k) for k in range(WRITERS)]
    ids = [user_id for user_id, _ in users]
    stop = threading.Event()
    errors: list[BaseException] = []
    acks: dict[int, list[Ack]] = {user_id: [] for user_id in ids}
    refused: list[int] = []  # the statuses of non-2xx answers to writes
    reads: list[list[Read]] = [[] for _ in range(READERS)]
    pauses = [0]

    def guarded(work: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                work()
            except BaseException as exc:
                errors.append(exc)
                stop.set()

        return run

    def writer(k: int) -> None:
        user_id, browser = users[k]
        n, attempt = 1, k
        while not stop.is_set():
            base = bases[attempt % 2]  # every attempt, a retry too, on the other instance
            attempt += 1
            status, _, _ = browser.request(
                base, "PATCH", f"/api/users/{user_id}/", {"full_name": f"w{k}-{n}"}
            )
            if 200 <= status < 300:
                acks[user_id].append(Ack(n, time.monotonic()))
                n += 1
            else:
                refused.append(status)
                stop.wait(RETRY_PAUSE)  # and again with the same n

    def reader(r: int) -> None:
        browser = Browser()
        i = 0
        while not stop.is_set():
            user_id, base = ids[(i // 2) % WRITERS], bases[(i + r) % 2]
            started = time.monotonic()
            status, body, headers = browser.request(base, "GET", f"/api/users/{user_id}/")
            value = value_of(body) if status == 200 else -1
            reads[r].append(Read(user_id, base, started, status, value, headers["X-Cache"] or ""))
            i += 1

    def pauser() -> None:
        with storm_redis.client(timeout=2) as client:
            while not stop.wait(PAUSE_EVERY):
                client.client_pause(PAUSE_MS, all=False)  # CLIENT PAUSE 300 WRITE
                pauses[0] += 1

    threads = [
        *(threading.Thread(target=guarded(partial(writer, k))) for k in range(WRITERS)),
        *(threading.Thread(target=guarded(partial(reader, r))) for r in range(READERS)),
        threading.Thread(target=guarded(pauser)),
    ]
    for thread in threads:
        thread.start()
    stop.wait(STORM_SECONDS)
    stop.set()
    for thread in threads:
        thread.join(timeout=20)
    assert not any(thread.is_alive() for thread in threads), "a storm thread did not stop"
    if errors:
        raise errors[0]

    every_read = [read for per_reader in reads for read in per_reader]
    answered = [read for read in every_read if read.status == 200]
    failed = [read for read in every_read if read.status >= 500]
    logs = ", ".join(str(log) for log in instances.logs)
    # The storm really happened: Redis stalled, every writer got through, readers kept up.
    assert pauses[0] >= STORM_SECONDS // PAUSE_EVERY - 1, f"only {pauses[0]} pauses"
    assert all(len(history) >= 10 for history in acks.values()), (
        f"acknowledged writes per user: {[len(h) for h in acks.values()]}, "
        f"refused: {Counter(refused)}"
    )
    assert len(answered) >= 300, f"only {len(answered)} reads answered"
    assert len(failed) == 0, (
        f"{len(failed)} of {len(every_read)} reads got a server error "
        f"({sorted({read.status for read in failed})}); see {logs}"
    )

    violations = find_violations(acks, answered)
    examples = "\n".join(
        f"  user {read.user} via {read.base}: got n={read.value} ({read.cache}), "
        f"{read.started - ack.at:.3f}s after n={ack.n} was acknowledged"
        for read, ack in violations[:5]
    )
    assert len(violations) == 0, (
        f"{len(violations)} stale reads out of {len(answered)} "
        f"({sum(len(h) for h in acks.values())} writes acknowledged, "
        f"refused: {dict(Counter(refused))}):\n"
        f"{examples}"
    )
    written = sum(len(h) for h in acks.values())
    print(
        f"\nstorm: {pauses[0]} pauses, {len(answered)} reads answered, {written} writes "
        f"acknowledged, refused {dict(Counter(refused))}, 0 stale reads"
    )
