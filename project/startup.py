"""Run Django's system checks when a WSGI or ASGI server loads the app.

``runserver``, ``migrate`` and ``check`` run them; gunicorn and uvicorn do not, so a
misconfiguration an app's check catches (an invalid ``THROTTLE_RATES``, say) would
otherwise surface as a 500 on the first request that needs it.
"""

from __future__ import annotations

from django.core import checks
from django.core.management.base import SystemCheckError


def check_or_refuse_to_start() -> None:
    # The static checks only, as Django 5.2 runs them by default: since 6.1 the default
    # also asks each database about its features (a JSONField's), a connection at import
    # time; `migrate` runs the database checks.
    found = checks.run_checks(databases=[])
    errors = [m for m in found if m.is_serious() and not m.is_silenced()]
    if errors:
        raise SystemCheckError("\n".join(str(error) for error in errors))
