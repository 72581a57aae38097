"""The THROTTLE_RATES system check: a bad rate stops start-up with a message naming it."""

from __future__ import annotations

from typing import Any

from ratelimit.checks import check_rates


def test_valid_rates_pass_the_check(settings: Any) -> None:
    settings.THROTTLE_RATES = {"anon": "100/min", "login": "5/15m"}
    assert check_rates() == []


def test_each_invalid_rate_is_an_error_naming_its_scope(settings: Any) -> None:
    settings.THROTTLE_RATES = {"anon": "100/min", "login": "5/15x", "user": "0/min"}
    errors = check_rates()
    assert [error.id for error in errors] == ["ratelimit.E002", "ratelimit.E002"]
    assert "login=5/15x" in errors[0].msg
    assert "user=0/min" in errors[1].msg


def test_an_invalid_rate_stops_manage_py(manage: Any) -> None:
    result = manage("check", THROTTLE_RATES="anon=100/5fortnights")
    assert result.returncode != 0
    assert "ratelimit.E002" in result.stderr
    assert "invalid rate '100/5fortnights'" in result.stderr


def test_an_invalid_rate_stops_the_wsgi_app(manage: Any) -> None:
    """gunicorn runs no system checks itself: loading project.wsgi runs them."""
    result = manage("shell", "-c", "import project.wsgi", THROTTLE_RATES="anon=100/5fortnights")
    assert result.returncode != 0
    assert "ratelimit.E002" in result.stderr


def test_a_malformed_rate_list_stops_start_up(manage: Any) -> None:
    result = manage("check", THROTTLE_RATES="anon=100/min,login")
    assert result.returncode != 0
    assert "invalid THROTTLE_RATES item 'login'" in result.stderr
