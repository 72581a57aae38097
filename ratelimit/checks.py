"""System checks: a bad ``THROTTLE_RATES`` stops ``runserver``, ``migrate``, ``check`` and
the WSGI/ASGI start-up (``project.startup``), not a request later."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core import checks
from django.core.exceptions import ImproperlyConfigured

from ratelimit.rates import parse_rate


@checks.register("ratelimit")
def check_rates(app_configs: Any = None, **kwargs: Any) -> list[checks.CheckMessage]:
    rates = getattr(settings, "THROTTLE_RATES", {})
    if not isinstance(rates, dict):
        return [checks.Error("THROTTLE_RATES must map scopes to rates", id="ratelimit.E001")]
    errors: list[checks.CheckMessage] = []
    for scope, rate in rates.items():
        try:
            parse_rate(rate)
        except ImproperlyConfigured as exc:
            errors.append(
                checks.Error(
                    f"THROTTLE_RATES {scope}={rate}: {exc}",
                    hint="e.g. THROTTLE_RATES=anon=100/min,user=1000/min,login=5/15m",
                    id="ratelimit.E002",
                )
            )
    return errors
