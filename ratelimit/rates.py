"""Rates as ``N/period``: ``100/min``, ``5/15m``, ``1000/1d``.

DRF reads ``"100/5m"`` as 100 per minute without a word (DRF#3463); here the count is
honoured and anything unparsable is an ``ImproperlyConfigured``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from django.core.exceptions import ImproperlyConfigured

_UNITS = {
    "s": 1, "sec": 1, "second": 1,
    "m": 60, "min": 60, "minute": 60,
    "h": 3600, "hour": 3600,
    "d": 86400, "day": 86400,
}  # fmt: skip
_RATE = re.compile(r"^\s*(\d+)\s*/\s*(\d*)\s*([a-z]+?)s?\s*$")


@dataclass(frozen=True)
class Rate:
    limit: int
    window: int  # seconds

    def __str__(self) -> str:
        return f"{self.limit}/{self.window}s"


@lru_cache(maxsize=256)
def parse_rate(text: str) -> Rate:
    match = _RATE.match(text.lower())
    if not match or match.group(3) not in _UNITS:
        raise ImproperlyConfigured(
            f"invalid rate {text!r}: use N/period with period s, sec, second, m, min, minute, "
            "h, hour, d or day, optionally with a count (5/15m, 1000/1d)"
        )
    limit, count, unit = int(match.group(1)), int(match.group(2) or 1), match.group(3)
    if limit < 1 or count < 1:
        raise ImproperlyConfigured(f"invalid rate {text!r}: the limit and period must be >= 1")
    return Rate(limit, count * _UNITS[unit])
