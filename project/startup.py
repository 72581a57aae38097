"""Run Django's system checks when a WSGI or ASGI server loads the app.

``runserver``, ``migrate`` and ``check`` run them; gunicorn and uvicorn do not, so a
misconfiguration an app's check catches (an invalid ``THROTTLE_RATES``, say) would
otherwise surface as a 500 on the first request that needs it.
"""

from __future__ import annotations

from django.core import checks
from django.core.management.base import SystemCheckError


def check_or_refuse_to_start() -> None:
    errors = [m for m in checks.run_checks() if m.is_serious() and not m.is_silenced()]
    if errors:
        raise SystemCheckError("\n".join(str(error) for error in errors))
