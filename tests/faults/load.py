"""The load of ``make test-faults``: simulated clients over one gunicorn, what each request
did, and the figures of a phase.

Three kinds of client, each a thread of its own:

- *owners* (signed in as their own user) PATCH their ``full_name`` to ``w<k>-<n>`` (``n``
  grows with every attempt; a 200 is an acknowledgment), read ``/api/auth/me/`` and user
  details signed in;
- *readers* (a second device of an owner, signed in) read details, the list and ``me``;
- *anonymous* clients read details and the list, each request from a loopback address of its
  own (``127.1.x.y``), so the per-address ``anon`` limit never refuses the load and the limit
  probe's address (``127.3.0.p``) is the only one that reaches it.

The load runs only while the gate is open; the harness closes it (waiting for the requests in
flight) to change phase and to check sessions and reads against PostgreSQL with nobody
writing. A client sends at most ``PER_PHASE`` requests a phase, so the load is bounded.
"""

from __future__ import annotations

import http.client
import itertools
import random
import statistics
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

from django.conf import settings

from tests.integration.servers import Browser
from tests.integration.test_read_your_writes import Ack, Read, value_of

PASSWORD = "correct-Horse-battery-9"
# A Redis call of the app waits at most REDIS_CONNECT_TIMEOUT + REDIS_SOCKET_TIMEOUT (0.25 s
# each, no retries), and a request makes about six (session, auth snapshot, throttle, cache
# entry, view counter, session touch), so a request that waits out every one of them while
# Redis stalls takes about 3 s. Slower than HANG_BUDGET (ten calls' worth: 5 s) is a hang; the
# client waits CLIENT_TIMEOUT (below gunicorn's 30 s worker timeout) so a hang is seen, not
# cut off. The gunicorn under test inherits this process's environment, so the same settings.
REDIS_CALL = settings.REDIS_CONNECT_TIMEOUT + settings.REDIS_SOCKET_TIMEOUT
HANG_BUDGET = 10 * REDIS_CALL
CLIENT_TIMEOUT = 3 * HANG_BUDGET
PER_PHASE = 2500  # requests per client per phase, at most: a bound the phases never reach


class Addresses:
    """Fresh loopback source addresses ``127.<block>.x.y`` (Linux routes all of 127/8)."""

    def __init__(self, block: int) -> None:
        self.block = block
        self._numbers = itertools.count()

    def fresh(self) -> str:
        n = next(self._numbers) % (250 * 250)
        return f"127.{self.block}.{n // 250 + 1}.{n % 250 + 1}"


class Gate:
    """Lets the load's requests through while open; ``close`` returns once none is in flight."""

    def __init__(self) -> None:
        self._condition = threading.Condition()
        self._open = False
        self._busy = 0
        self._finished = False

    def enter(self) -> bool:
        """Wait until the gate opens; False once the run is over."""
        with self._condition:
            while not self._open and not self._finished:
                self._condition.wait()
            if self._finished:
                return False
            self._busy += 1
            return True

    def leave(self) -> None:
        with self._condition:
            self._busy -= 1
            self._condition.notify_all()

    def open(self) -> None:
        with self._condition:
            self._open = True
            self._condition.notify_all()

    def close(self) -> None:
        with self._condition:
            self._open = False
            while self._busy:
                self._condition.wait()

    def finish(self) -> None:
        with self._condition:
            self._finished, self._open = True, False
            self._condition.notify_all()


@dataclass(frozen=True)
class Outcome:
    """One request: what it was, when, how long it took and what came back."""

    phase: str
    kind: str
    path: str
    started: float  # monotonic
    latency: float
    status: int  # 0: no answer (a timeout, a refused or reset connection)
    error: str  # the transport error, when status is 0
    retry_after: bool
    json_error: bool  # a 4xx/5xx whose body is a JSON object, as every error must be
    cache: str  # X-Cache


@dataclass
class Member:
    """A signed-in client: an owner, or a reader on a second device of an owner's account."""

    k: int  # the owner's number: user ``w<k>``
    user_id: int
    browser: Browser
    owner: bool
    written: int = 0  # the n of the last PATCH sent
    acked: int = 0  # the n of the last PATCH acknowledged

    @property
    def username(self) -> str:
        return f"w{self.k}"


@dataclass
class Load:
    base: str
    phase: str = "setup"
    gate: Gate = field(default_factory=Gate)
    outcomes: list[Outcome] = field(default_factory=list)
    acks: dict[int, list[Ack]] = field(default_factory=dict)
    reads: list[Read] = field(default_factory=list)  # every 200 that showed an owner's name
    anonymous: Addresses = field(default_factory=lambda: Addresses(1))
    _lock: threading.Lock = field(default_factory=threading.Lock)

    # --- requests ------------------------------------------------------------------------

    def call(
        self, browser: Browser, kind: str, method: str, path: str, body: Any = None
    ) -> tuple[Outcome, Any]:
        started = time.monotonic()
        headers = None
        try:
            status, data, headers = browser.request(self.base, method, path, body)
            error = ""
        except (OSError, http.client.HTTPException) as exc:
            status, data, error = 0, None, f"{type(exc).__name__}: {exc}"
        latency = time.monotonic() - started
        content_type = (headers.get("Content-Type") or "") if headers else ""
        outcome = Outcome(
            phase=self.phase,
            kind=kind,
            path=f"{method} {path}",
            started=started,
            latency=latency,
            status=status,
            error=error,
            retry_after=bool(headers and headers.get("Retry-After")),
            json_error=isinstance(data, dict) and content_type.startswith("application/json"),
            cache=(headers.get("X-Cache") or "") if headers else "",
        )
        with self._lock:
            self.outcomes.append(outcome)
        return outcome, data

    def seen(self, outcome: Outcome, user_id: int, body: Any) -> None:
        """Note a read of an owner's name, for the stale-read check over the whole run."""
        read = Read(user_id, self.base, outcome.started, 200, value_of(body), outcome.cache)
        with self._lock:
            self.reads.append(read)

    def read_detail(self, browser: Browser, user_id: int, kind: str) -> tuple[Outcome, Any]:
        outcome, body = self.call(browser, kind, "GET", f"/api/users/{user_id}/")
        if outcome.status == 200:
            self.seen(outcome, user_id, body)
        return outcome, body

    def read_list(self, browser: Browser, owners: set[int], kind: str) -> tuple[Outcome, Any]:
        outcome, body = self.call(browser, kind, "GET", "/api/users/?page_size=100")
        if outcome.status == 200:
            for record in body["results"]:
                if record["id"] in owners:
                    self.seen(outcome, record["id"], record)
        return outcome, body

    def read_me(self, member: Member, kind: str) -> tuple[Outcome, Any]:
        outcome, body = self.call(member.browser, kind, "GET", "/api/auth/me/")
        if outcome.status == 200:
            self.seen(outcome, member.user_id, body)
        return outcome, body

    def write(self, member: Member) -> None:
        member.written += 1
        n = member.written
        outcome, body = self.call(
            member.browser,
            "owner-write",
            "PATCH",
            f"/api/users/{member.user_id}/",
            {"full_name": f"w{member.k}-{n}"},
        )
        if outcome.status == 200:
            assert body["full_name"] == f"w{member.k}-{n}", body
            member.acked = n
            with self._lock:
                self.acks[member.user_id].append(Ack(n, time.monotonic()))

    def sign_in(self, member: Member) -> None:
        member.browser.request(self.base, "GET", "/api/auth/csrf/")
        credentials = {"username": member.username, "password": PASSWORD}
        outcome, body = self.call(
            member.browser, "sign-in", "POST", "/api/auth/login/", credentials
        )
        assert outcome.status == 200, (outcome, body)

    # --- clients -------------------------------------------------------------------------

    def clients(self, members: list[Member], anonymous: int) -> list[threading.Thread]:
        owners = {m.user_id for m in members if m.owner}
        ids = sorted(owners)
        for user_id in ids:
            self.acks.setdefault(user_id, [])

        def owner(member: Member, rng: random.Random) -> None:
            roll = rng.random()
            if roll < 0.4:
                self.write(member)
            elif roll < 0.6:
                self.read_me(member, "signed-in-me")
            else:
                self.read_detail(member.browser, rng.choice(ids), "signed-in-detail")

        def reader(member: Member, rng: random.Random) -> None:
            roll = rng.random()
            if roll < 0.2:
                self.read_me(member, "signed-in-me")
            elif roll < 0.4:
                self.read_list(member.browser, owners, "signed-in-list")
            else:
                self.read_detail(member.browser, rng.choice(ids), "signed-in-detail")

        def stranger(browser: Browser, rng: random.Random) -> None:
            browser.source = self.anonymous.fresh()
            if rng.random() < 0.25:
                self.read_list(browser, owners, "anonymous-list")
            else:
                self.read_detail(browser, rng.choice(ids), "anonymous-detail")

        loops: list[Callable[[], None]] = []
        for i, member in enumerate(members):
            act = owner if member.owner else reader
            loops.append(self._loop(act, member, random.Random(i)))
        for i in range(anonymous):
            browser = Browser(timeout=CLIENT_TIMEOUT)
            loops.append(self._loop(stranger, browser, random.Random(100 + i)))
        return [threading.Thread(target=loop, daemon=True) for loop in loops]

    def _loop(self, act: Callable[[Any, random.Random], None], who: Any, rng: random.Random):
        def run() -> None:
            sent: Counter[str] = Counter()
            while self.gate.enter():
                try:
                    if sent[self.phase] < PER_PHASE:
                        sent[self.phase] += 1
                        act(who, rng)
                    else:
                        time.sleep(0.05)  # this phase's share is spent: wait for the next
                finally:
                    self.gate.leave()

        return run


# --- figures ---------------------------------------------------------------------------


def percentile(values: list[float], fraction: float) -> float:
    if len(values) < 2:
        return values[0] if values else 0.0
    return statistics.quantiles(values, n=100, method="inclusive")[round(fraction * 100) - 1]


@dataclass(frozen=True)
class Figures:
    requests: int
    statuses: dict[int, int]
    unavailable: int  # 503 with Retry-After
    p99: float
    max: float
    hung: list[Outcome]  # slower than HANG_BUDGET, or no answer in CLIENT_TIMEOUT
    broken: list[Outcome]  # 5xx other than a 503 with Retry-After; no answer; error not JSON

    @classmethod
    def of(cls, outcomes: Iterable[Outcome]) -> Figures:
        outcomes = list(outcomes)
        latencies = [o.latency for o in outcomes]
        return cls(
            requests=len(outcomes),
            statuses=dict(sorted(Counter(o.status for o in outcomes).items())),
            unavailable=sum(o.status == 503 and o.retry_after for o in outcomes),
            p99=percentile(latencies, 0.99),
            max=max(latencies, default=0.0),
            hung=[o for o in outcomes if o.latency > HANG_BUDGET or "timed out" in o.error],
            broken=[o for o in outcomes if is_broken(o)],
        )


def is_broken(outcome: Outcome) -> bool:
    if outcome.status == 0:
        return True
    if outcome.status >= 500 and not (outcome.status == 503 and outcome.retry_after):
        return True
    return outcome.status >= 400 and not outcome.json_error
