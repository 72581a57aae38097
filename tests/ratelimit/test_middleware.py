"""RateLimit-Policy and RateLimit headers from what the request's throttles decided."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.http import HttpRequest, HttpResponse
from django.test import RequestFactory

from ratelimit.middleware import RateLimitHeadersMiddleware
from ratelimit.rates import Rate
from ratelimit.scripts import Verdict
from ratelimit.throttles import Applied, Ledger, ledger

View = Callable[[HttpRequest], HttpResponse]


def respond(view: View) -> HttpResponse:
    return RateLimitHeadersMiddleware(view)(RequestFactory().get("/api/thing/"))


def throttled_by(*applied: Applied) -> View:
    """A view whose throttles recorded ``applied`` on the request's ledger."""

    def view(request: HttpRequest) -> HttpResponse:
        ledger(request).applied.extend(applied)
        return HttpResponse("ok")

    return view


def applied(policy: str, limit: int, window: int, remaining: int, reset: float) -> Applied:
    return Applied(policy, Rate(limit, window), Verdict(True, remaining, reset))


def test_a_request_no_throttle_saw_gets_no_headers() -> None:
    response = respond(lambda request: HttpResponse("ok"))
    assert "RateLimit-Policy" not in response
    assert "RateLimit" not in response


def test_a_ledger_without_applied_throttles_gets_no_headers() -> None:
    def view(request: HttpRequest) -> HttpResponse:
        request.ratelimit = Ledger()  # type: ignore[attr-defined]
        return HttpResponse("ok")

    response = respond(view)
    assert "RateLimit-Policy" not in response
    assert "RateLimit" not in response


def test_one_throttle_announces_its_policy_and_what_is_left() -> None:
    response = respond(throttled_by(applied("anon", 100, 60, remaining=42, reset=17)))
    assert response["RateLimit-Policy"] == '"anon";q=100;w=60'
    assert response["RateLimit"] == '"anon";r=42;t=17'


@pytest.mark.parametrize(("reset", "seconds"), [(16.2, 17), (16.999, 17), (0.0, 0)])
def test_the_reset_is_rounded_up_to_whole_seconds(reset: float, seconds: int) -> None:
    """Rounding down would tell a client to come back before its slot is free."""
    response = respond(throttled_by(applied("anon", 100, 60, remaining=0, reset=reset)))
    assert response["RateLimit"] == f'"anon";r=0;t={seconds}'


def test_several_throttles_are_listed_in_order_comma_separated() -> None:
    response = respond(
        throttled_by(
            applied("user", 1000, 3600, remaining=998, reset=3599.5),
            applied("login", 5, 900, remaining=4, reset=900),
        )
    )
    assert response["RateLimit-Policy"] == '"user";q=1000;w=3600, "login";q=5;w=900'
    assert response["RateLimit"] == '"user";r=998;t=3600, "login";r=4;t=900'
