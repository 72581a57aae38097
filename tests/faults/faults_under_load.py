"""``make test-faults``: Redis faults injected under load, one phase each, on PostgreSQL.

Not collected by ``make test`` (its name does not match ``test_*.py``; pytest collects it
only when named, as the Makefile does): it needs PostgreSQL and takes about 75 s. What it
builds, for this run only: a redis-server of its own on a free loopback port
(``tests.own_redis.FaultyRedis``), a PostgreSQL database of its own (``<name>_faults`` next
to the one ``DATABASE_URL`` names, default ``postgres://postgres@127.0.0.1:5432/test``,
dropped and created, migrated, dropped at the end) and one gunicorn with four sync workers
on both. Then the load (``tests/faults/load.py``) runs through these phases, each of a fixed
length while the load runs (a fault ``FAULT_SECONDS``, then ``HEALTHY_SECONDS`` healthy):

==================  ==========================================================================
``baseline``        healthy
``sigstop``         Redis frozen (``SIGSTOP``) for the whole phase, then ``SIGCONT``
``kill-restart``    Redis killed (``SIGKILL``), down 2 s, started again on the same port, empty
``pause-all``       ``CLIENT PAUSE <phase ms> ALL``: every command waits the phase out
``pause-write``     ``CLIENT PAUSE <phase ms> WRITE``: reads answered, writes wait
``slow``            ``DEBUG SLEEP 0.4`` every 0.5 s: Redis stalls four fifths of the time
==================  ==========================================================================

Asserted: no response is a 5xx other than a 503 with ``Retry-After`` and every error is a
JSON object; no request is slower than ``HANG_BUDGET`` (5 s; the client waits 15 s, so a
hang is seen); once Redis is back after each fault, with the load held, every client that
was signed in before the fault still is (``GET /api/auth/me/`` 200), except after
``kill-restart``, where the sessions are expected gone (counted, not a failure), and every owner's
detail, read anonymously, signed in and in the list, then and again after the healthy phase,
equals what PostgreSQL holds, which is the owner's last acknowledged write or later; no read
anywhere in the run, started after a write's acknowledgment, returned an older value; and in
each healthy phase ``PROBE_REQUESTS`` concurrent anonymous reads from one address, spread
over the workers, admit exactly ``ANON_LIMIT``, the others 429 with ``Retry-After``. The
figures of each phase are printed.
"""

from __future__ import annotations

import functools
import os
import time
import urllib.parse
from collections import Counter
from collections.abc import Callable, Iterator
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

import psycopg
import pytest
import redis
from psycopg import sql

from tests.faults.load import (
    CLIENT_TIMEOUT,
    HANG_BUDGET,
    PASSWORD,
    Addresses,
    Figures,
    Load,
    Member,
    Outcome,
)
from tests.integration.servers import Browser, gunicorns, migrate
from tests.integration.test_read_your_writes import find_violations
from tests.own_redis import FaultyRedis, faulty_redis

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/test"
WORKERS = 4
OWNERS, READERS, ANONYMOUS = 4, 2, 2  # client threads: 8 over 4 workers on 2 cores
# Longer than HANG_BUDGET: a request that waits for Redis to come back is held past it.
FAULT_SECONDS = 8.0
HEALTHY_SECONDS = 4.0
PROBE_AFTER = 1.0  # seconds into a healthy phase
KILL_DOWN_SECONDS = 2.0
SLEEP_SECONDS, SLEEP_GAP = 0.4, 0.1
ANON_LIMIT = 40  # per address and minute
PROBE_REQUESTS, PROBE_THREADS = 120, 12
CHECK_READS = 4  # per owner and way of reading, at each checkpoint
ACCESS_FORMAT = '%(h)s %(p)s %(s)s "%(r)s"'  # client address, worker pid, status, request


# --- what the run starts -----------------------------------------------------------------


@pytest.fixture
def database() -> Iterator[str]:
    """A PostgreSQL database of this run's own, next to the one DATABASE_URL names."""
    base = os.environ.get("DATABASE_URL") or DEFAULT_DATABASE_URL
    parts = urllib.parse.urlsplit(base)
    if not parts.scheme.startswith("postgres"):
        pytest.fail(f"make test-faults runs on PostgreSQL; DATABASE_URL is {base}")
    name = parts.path.lstrip("/") + "_faults"
    drop = sql.SQL("DROP DATABASE IF EXISTS {} WITH (FORCE)").format(sql.Identifier(name))
    try:
        admin = psycopg.connect(base, autocommit=True, connect_timeout=5)
    except psycopg.OperationalError as exc:
        pytest.fail(f"make test-faults needs PostgreSQL at {base}: {exc}")
    with admin:
        admin.execute(drop)
        admin.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    try:
        yield urllib.parse.urlunsplit(parts._replace(path="/" + name))
    finally:
        with psycopg.connect(base, autocommit=True, connect_timeout=5) as admin:
            admin.execute(drop)


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[FaultyRedis]:
    with faulty_redis(tmp_path / "redis") as server:
        yield server


@dataclass(frozen=True)
class App:
    base: str
    log: Path
    database: str


@pytest.fixture
def app(tmp_path: Path, database: str, own_redis: FaultyRedis) -> Iterator[App]:
    env = {
        **os.environ,
        "DATABASE_URL": database,
        "REDIS_URL": own_redis.url,
        "REDIS_KEY_PREFIX": "faults",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_COOKIES": "0",
        "THROTTLE_RATES": f"anon={ANON_LIMIT}/min,user=1000000/min,login=100/min",
        "THROTTLE_FAIL_OPEN": "1",
        "LOG_LEVEL": "WARNING",
    }
    migrate(env)
    log = tmp_path / "gunicorn.log"
    options = ["--access-logfile", "-", "--access-logformat", ACCESS_FORMAT]
    with gunicorns(env, count=1, workers=WORKERS, logs=[log], options=options) as bases:
        yield App(bases[0], log, database)


# --- the faults ----------------------------------------------------------------------------


def sleep_until(moment: float) -> None:
    time.sleep(max(0.0, moment - time.monotonic()))


def sigstop(server: FaultyRedis) -> None:
    server.freeze()
    try:
        time.sleep(FAULT_SECONDS)
    finally:
        server.thaw()


def kill_restart(server: FaultyRedis) -> None:
    began = time.monotonic()
    server.kill()
    time.sleep(KILL_DOWN_SECONDS)
    server.start()
    sleep_until(began + FAULT_SECONDS)


def client_pause(every: bool) -> Callable[[FaultyRedis], None]:
    def pause(server: FaultyRedis) -> None:
        with server.client() as conn:
            conn.client_pause(int(FAULT_SECONDS * 1000), all=every)
        time.sleep(FAULT_SECONDS)  # the pause ends on Redis's clock; wait_healthy makes sure

    return pause


def slow(server: FaultyRedis) -> None:
    deadline = time.monotonic() + FAULT_SECONDS
    with server.client(timeout=SLEEP_SECONDS + 5) as conn:
        while time.monotonic() < deadline:
            conn.execute_command("DEBUG", "SLEEP", SLEEP_SECONDS)
            time.sleep(SLEEP_GAP)


@dataclass(frozen=True)
class Fault:
    name: str
    inject: Callable[[FaultyRedis], None]  # holds the fault for the phase, then ends it
    keeps_sessions: bool = True


FAULTS = [
    Fault("sigstop", sigstop),
    Fault("kill-restart", kill_restart, keeps_sessions=False),
    Fault("pause-all", client_pause(every=True)),
    Fault("pause-write", client_pause(every=False)),
    Fault("slow", slow),
]


def wait_healthy(server: FaultyRedis) -> None:
    deadline = time.monotonic() + 10
    while True:
        try:
            with server.client(timeout=1) as conn:
                conn.ping()
            return
        except redis.RedisError:
            assert time.monotonic() < deadline, "Redis did not come back"
            time.sleep(0.05)


# --- the checks ----------------------------------------------------------------------------


@dataclass
class Probe:
    admitted: int
    refused: int  # 429 with Retry-After
    other: Counter[int]
    workers: int  # distinct worker pids that answered the probe


@dataclass
class Checkpoint:
    signed_in: int = 0  # sessions that should still be there
    lost: list[str] = field(default_factory=list)
    unavailable: list[str] = field(default_factory=list)  # neither 200 nor 403 once back
    reads: int = 0
    stale: list[str] = field(default_factory=list)
    cache: Counter[str] = field(default_factory=Counter)


@dataclass
class Harness:
    app: App
    server: FaultyRedis
    load: Load
    members: list[Member]
    checks: Addresses = field(default_factory=lambda: Addresses(2))
    probes: Addresses = field(default_factory=lambda: Addresses(3))

    def hold(self, name: str, work: Callable[[], object]) -> None:
        """Run ``work`` as phase ``name`` with the load on; then hold the load."""
        self.load.phase = name
        self.load.gate.open()
        try:
            work()
        finally:
            self.load.gate.close()

    def healthy(self) -> Probe:
        began = time.monotonic()
        wait_healthy(self.server)
        sleep_until(began + PROBE_AFTER)
        probe = self.probe()
        sleep_until(began + HEALTHY_SECONDS)
        return probe

    def probe(self) -> Probe:
        """PROBE_REQUESTS anonymous reads from one fresh address, PROBE_THREADS at a time."""
        address = self.probes.fresh()
        path = f"/api/users/{self.members[0].user_id}/"

        def one(_: int) -> Outcome:
            browser = Browser(source=address, timeout=CLIENT_TIMEOUT)
            return self.load.call(browser, "limit-probe", "GET", path)[0]

        with ThreadPoolExecutor(PROBE_THREADS) as pool:
            outcomes = list(pool.map(one, range(PROBE_REQUESTS)))
        statuses = Counter(o.status for o in outcomes)
        refused = sum(o.status == 429 and o.retry_after for o in outcomes)
        other = Counter({s: n for s, n in statuses.items() if s not in (200, 429)})
        other[429] = statuses[429] - refused  # a 429 without Retry-After breaks the rules
        pids = {
            line.split()[1]
            for line in self.app.log.read_text().splitlines()
            if line.startswith(address + " ")
        }
        return Probe(statuses[200], refused, +other, len(pids))

    def sessions(self, check: Checkpoint, fault: Fault | None) -> None:
        """Every client signed in before the fault still is; one whose session is gone signs
        in again (after ``kill-restart`` all of them: counted apart, not as lost)."""
        for member in self.members:
            status = self.me(member)
            who = f"{member.username}{'' if member.owner else ' (second device)'}"
            if status == 403:
                check.lost.append(who)
                self.load.sign_in(member)
            elif status != 200:
                check.unavailable.append(f"{who}: {status}")
        check.signed_in = len(self.members) if fault is None or fault.keeps_sessions else 0

    def reads(self, check: Checkpoint) -> None:
        """Every owner's detail, anonymous and signed in, and the list, CHECK_READS times
        each (so over several workers), against PostgreSQL and the last acknowledged write."""
        truth = self.database_names()
        for member in (m for m in self.members if m.owner):
            expected = truth[member.user_id]
            if int(expected.rsplit("-", 1)[1] if expected else 0) < member.acked:
                check.stale.append(
                    f"{member.username}: database {expected!r} is older than "
                    f"the acknowledged w{member.k}-{member.acked}"
                )
            for _ in range(CHECK_READS):
                stranger = Browser(source=self.checks.fresh(), timeout=CLIENT_TIMEOUT)
                self.compare(
                    check,
                    member,
                    expected,
                    "anonymous detail",
                    *self.load.read_detail(stranger, member.user_id, "check"),
                )
                self.compare(
                    check,
                    member,
                    expected,
                    "signed-in detail",
                    *self.load.read_detail(member.browser, member.user_id, "check"),
                )
                outcome, page = self.load.read_list(stranger, set(truth), "check")
                record = next((r for r in page["results"] if r["id"] == member.user_id), None)
                self.compare(check, member, expected, "list", outcome, record)

    def me(self, member: Member) -> int:
        """``GET /api/auth/me/`` until it is not a 503 (Redis is back: at most a few s)."""
        deadline = time.monotonic() + 10
        while True:
            outcome, _ = self.load.call(member.browser, "check", "GET", "/api/auth/me/")
            if outcome.status != 503 or time.monotonic() > deadline:
                return outcome.status
            time.sleep(0.2)

    def compare(
        self,
        check: Checkpoint,
        member: Member,
        expected: str,
        how: str,
        outcome: Outcome,
        body: dict[str, object] | None,
    ) -> None:
        check.reads += 1
        check.cache[outcome.cache or "-"] += 1
        got = body.get("full_name") if outcome.status == 200 and body else None
        if got != expected:
            check.stale.append(
                f"{member.username} {how}: {outcome.status} {got!r} ({outcome.cache}), "
                f"PostgreSQL holds {expected!r}"
            )

    def database_names(self) -> dict[int, str]:
        with psycopg.connect(self.app.database, connect_timeout=5) as conn:
            rows = conn.execute("SELECT id, full_name FROM users_user").fetchall()
        return dict(rows)


# --- the run -------------------------------------------------------------------------------


def sign_up(load: Load) -> list[Member]:
    """OWNERS users, each signed in on its own client; READERS second devices of owners."""
    members = []
    for k in range(OWNERS):
        browser = Browser(source=f"127.0.1.{k + 1}", timeout=CLIENT_TIMEOUT)
        user = {"username": f"w{k}", "email": f"w{k}@example.com", "password": PASSWORD}
        outcome, created = load.call(browser, "sign-up", "POST", "/api/users/", user)
        assert outcome.status == 201, (outcome, created)
        members.append(Member(k, created["id"], browser, owner=True))
    for j in range(READERS):
        browser = Browser(source=f"127.0.1.{OWNERS + j + 1}", timeout=CLIENT_TIMEOUT)
        members.append(Member(j, members[j].user_id, browser, owner=False))
    for member in members:
        load.sign_in(member)
    return members


@dataclass
class Row:
    phase: str
    figures: Figures | None = None  # once the run is over
    sessions: str = ""
    stale: str = ""
    limit: str = ""


def describe(outcome: Outcome) -> str:
    return (
        f"{outcome.phase} {outcome.kind} {outcome.path}: {outcome.status} "
        f"in {outcome.latency:.2f}s {outcome.error}"
    ).rstrip()


CHAINED = ("Traceback", "During handling", "The above exception")


def tracebacks(log: Path, most: int = 3) -> str:
    """The first tracebacks of the gunicorn log, each with the line before it (what Django
    logged: ``Internal Server Error: <path>``), chained exceptions included."""
    lines = log.read_text().splitlines()
    found, end = [], 0
    for i, line in enumerate(lines):
        if not line.startswith("Traceback") or i < end:
            continue
        end = i + 1
        while end < len(lines):
            text = lines[end]
            end += 1
            if text.startswith((" ", *CHAINED)) or not text:
                continue
            # The exception's own line ends the traceback, unless another one is chained.
            if end < len(lines) and (not lines[end] or lines[end].startswith(CHAINED)):
                continue
            break
        found.append("\n".join(lines[max(0, i - 1) : end]))
        if len(found) == most:
            break
    return "\n\n".join(found) or "(no traceback in the gunicorn log)"


def table(rows: list[Row]) -> str:
    head = (
        "phase",
        "requests",
        "statuses",
        "503+RA",
        "p99 s",
        "max s",
        "hung",
        "sessions lost",
        "stale",
        "admitted/limit",
    )
    lines = [head]
    for row in rows:
        f = row.figures
        assert f is not None
        statuses = " ".join(f"{s}:{n}" for s, n in f.statuses.items())
        lines.append(
            (
                row.phase,
                str(f.requests),
                statuses,
                str(f.unavailable),
                f"{f.p99:.3f}",
                f"{f.max:.3f}",
                str(len(f.hung)),
                row.sessions,
                row.stale,
                row.limit,
            )
        )
    widths = [max(len(line[i]) for line in lines) for i in range(len(head))]
    return "\n".join(
        "  ".join(c.ljust(w) for c, w in zip(line, widths, strict=True)).rstrip() for line in lines
    )


def test_faults_under_load(app: App, own_redis: FaultyRedis) -> None:
    began = time.monotonic()
    load = Load(app.base)
    members = sign_up(load)
    harness = Harness(app, own_redis, load, members)
    threads = load.clients(members, ANONYMOUS)
    for thread in threads:
        thread.start()
    problems: list[str] = []
    rows: list[Row] = []

    def phase(name: str, work: Callable[[], object]) -> Row:
        harness.hold(name, work)
        rows.append(Row(name))
        return rows[-1]

    def healthy(name: str) -> Checkpoint:
        """A healthy phase with the limit probe in it; then, the load held, the reads."""
        probes: list[Probe] = []
        row = phase(name, lambda: probes.append(harness.healthy()))
        probe = probes[0]
        row.limit = f"{probe.admitted}/{ANON_LIMIT} ({probe.workers} workers)"
        if probe.admitted != ANON_LIMIT or probe.refused != PROBE_REQUESTS - ANON_LIMIT:
            problems.append(
                f"{name}: the limit probe admitted {probe.admitted} of "
                f"{PROBE_REQUESTS} (limit {ANON_LIMIT}), refused {probe.refused} "
                f"with Retry-After, other {dict(probe.other)}"
            )
        check = Checkpoint()
        harness.reads(check)
        return check

    def verdict(row: Row, fault: Fault | None, *checks: Checkpoint) -> None:
        lost = [who for check in checks for who in check.lost]
        if fault is None or fault.keeps_sessions:
            row.sessions = f"{len(lost)}/{sum(check.signed_in for check in checks)}"
            problems.extend(f"{row.phase}: session lost: {who}" for who in lost)
        else:
            row.sessions = f"{len(lost)} gone (expected)"
        stale = [s for check in checks for s in check.stale]
        cache = sum((check.cache for check in checks), Counter[str]())
        row.stale = f"{len(stale)}/{sum(c.reads for c in checks)} " + ",".join(
            f"{k}:{n}" for k, n in sorted(cache.items())
        )
        problems.extend(f"{row.phase}: stale read: {s}" for s in stale)
        problems.extend(
            f"{row.phase}: /api/auth/me/ once Redis was back: {u}"
            for check in checks
            for u in check.unavailable
        )

    try:
        baseline = healthy("baseline")
        harness.sessions(baseline, None)
        verdict(rows[0], None, baseline)
        for fault in FAULTS:
            row = phase(fault.name, functools.partial(fault.inject, own_redis))
            # The load held, Redis back: sessions and reads at once, reads again after
            # a healthy phase (the breakers closed, the cache refilled).
            load.phase = f"after {fault.name}"  # what the checks send counts there
            wait_healthy(own_redis)
            recovered = Checkpoint()
            harness.sessions(recovered, fault)
            harness.reads(recovered)
            verdict(row, fault, recovered, healthy(f"after {fault.name}"))
    finally:
        load.gate.finish()
        for thread in threads:
            thread.join(timeout=CLIENT_TIMEOUT + 5)

    for row in rows:
        row.figures = Figures.of(o for o in load.outcomes if o.phase == row.phase)
    total = Figures.of(load.outcomes)
    violations = find_violations(load.acks, load.reads)
    acked = sum(len(history) for history in load.acks.values())
    print(
        f"\n\nmake test-faults: gunicorn -w {WORKERS} on {app.base}, Redis {own_redis.url}, "
        f"PostgreSQL {app.database}; {OWNERS} owners, {READERS} second devices, "
        f"{ANONYMOUS} anonymous clients; hang budget {HANG_BUDGET:.0f} s, client timeout "
        f"{CLIENT_TIMEOUT:.0f} s"
    )
    print(table(rows))
    print(
        f"total: {total.requests} requests, statuses {total.statuses}, p99 {total.p99:.3f} s, "
        f"max {total.max:.3f} s; {acked} writes acknowledged; {len(load.reads)} reads of an "
        f"owner's name, {len(violations)} older than an acknowledged write; "
        f"{time.monotonic() - began:.0f} s"
    )

    for outcome in total.broken[:10]:
        problems.append(f"broken response: {describe(outcome)}")
    if total.broken:
        problems.append(
            f"{len(total.broken)} broken responses in all; gunicorn log "
            f"{app.log}:\n{tracebacks(app.log)}"
        )
    problems.extend(f"hung: {describe(o)}" for o in total.hung[:10])
    for read, ack in violations[:10]:
        problems.append(
            f"stale read under load: user {read.user} got n={read.value} "
            f"({read.cache}) {read.started - ack.at:.3f}s after n={ack.n} "
            "was acknowledged"
        )
    for row in rows:  # the faults really were under load
        if row.figures and row.figures.requests < 20:
            problems.append(f"{row.phase}: only {row.figures.requests} requests")
    assert problems == []
