"""The circuit breaker: skip Redis for a cooldown after a failure, then let one caller probe."""

from __future__ import annotations

import time
from typing import Any

from project.redis.breaker import CircuitBreaker


class Clock:
    """A monotonic clock the test moves by hand."""

    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now

    def advance(self, seconds: float) -> None:
        self.now += seconds


def opened(clock: Clock, cooldown: float = 2.0) -> CircuitBreaker:
    breaker = CircuitBreaker(cooldown=cooldown, clock=clock)
    breaker.failure()
    return breaker


def test_a_closed_breaker_lets_every_call_through() -> None:
    breaker = CircuitBreaker(clock=Clock())
    assert not breaker.is_open
    assert [breaker.allow() for _ in range(5)] == [True] * 5


def test_a_failure_opens_the_breaker_and_calls_are_skipped_during_the_cooldown() -> None:
    clock = Clock()
    breaker = opened(clock, cooldown=2.0)
    assert breaker.is_open
    assert not breaker.allow()
    clock.advance(1.999)
    assert not breaker.allow()


def test_after_the_cooldown_exactly_one_caller_probes() -> None:
    clock = Clock()
    breaker = opened(clock, cooldown=2.0)
    clock.advance(2.0)
    assert [breaker.allow() for _ in range(4)] == [True, False, False, False]
    assert breaker.is_open  # still open until the probe reports


def test_a_successful_probe_closes_the_breaker_for_everyone() -> None:
    clock = Clock()
    breaker = opened(clock)
    clock.advance(2.0)
    assert breaker.allow()
    breaker.success()
    assert not breaker.is_open
    assert [breaker.allow() for _ in range(3)] == [True] * 3


def test_a_failed_probe_reopens_the_breaker_for_another_full_cooldown() -> None:
    clock = Clock()
    breaker = opened(clock, cooldown=2.0)
    clock.advance(5.0)
    assert breaker.allow()
    breaker.failure()  # the probe failed at t+5: open until t+7
    clock.advance(1.999)
    assert not breaker.allow()
    clock.advance(0.001)
    assert breaker.allow()  # the next probe
    assert not breaker.allow()


class YieldingClock(Clock):
    """Hands the GIL to another thread on every reading: between a caller's check and its
    claim of the probe, the others run, so an unguarded check-then-set shows every time."""

    def __call__(self) -> float:
        time.sleep(0)  # a yield, not a wait
        return self.now


def test_concurrent_callers_after_the_cooldown_elect_a_single_probe(together: Any) -> None:
    clock = YieldingClock()
    for _ in range(10):
        breaker = opened(clock)
        clock.advance(2.0)
        allowed = together(16, lambda _, breaker=breaker: breaker.allow())
        assert allowed.count(True) == 1
