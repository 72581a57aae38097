"""Django's session deploy checks, for this engine.

Django's own (``security.W010``-``W015``) look for ``django.contrib.sessions`` and its
middleware, neither of which this project installs, so ``check --deploy`` would stay
silent about insecure session cookies. These say the same of ``sessions.middleware``.
"""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.core.checks import Tags, Warning, register

MIDDLEWARE = "sessions.middleware.SessionMiddleware"


@register(Tags.security, deploy=True)
def check_session_cookies(app_configs: Any = None, **kwargs: Any) -> list[Warning]:
    if MIDDLEWARE not in settings.MIDDLEWARE:
        return []
    found = []
    if not settings.SESSION_COOKIE_SECURE:
        found.append(
            Warning(
                "SESSION_COOKIE_SECURE is off: the session cookie is sent over plain http, "
                "where anyone on the path can take over the session.",
                hint="Leave DJANGO_SECURE_COOKIES unset (on outside DEBUG) unless the site "
                "is served over plain http.",
                id="redis_sessions.W010",
            )
        )
    if not settings.SESSION_COOKIE_HTTPONLY:
        found.append(
            Warning(
                "SESSION_COOKIE_HTTPONLY is off: scripts in the page can read the session cookie.",
                id="redis_sessions.W013",
            )
        )
    return found
