from __future__ import annotations

import pytest
from django.core.exceptions import ImproperlyConfigured

from ratelimit.rates import Rate, parse_rate


@pytest.mark.parametrize(
    ("text", "rate"),
    [
        ("100/min", Rate(100, 60)),
        ("5/15m", Rate(5, 900)),  # DRF reads this as 5 per minute (DRF#3463)
        ("1000/1d", Rate(1000, 86400)),
        ("10/s", Rate(10, 1)),
        ("3/2hours", Rate(3, 7200)),
        ("7 / second", Rate(7, 1)),
    ],
)
def test_rates_parse_with_their_count(text: str, rate: Rate) -> None:
    assert parse_rate(text) == rate


@pytest.mark.parametrize("text", ["", "100", "100/", "0/min", "5/0m", "x/min", "5/fortnight"])
def test_bad_rates_are_improperly_configured(text: str) -> None:
    with pytest.raises(ImproperlyConfigured, match="invalid rate"):
        parse_rate(text)
