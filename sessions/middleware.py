"""Django's SessionMiddleware, failing closed: Redis down → 503, the cookie untouched.

Django's cache backend turns a failed read into an empty session, and the middleware then
deletes the cookie: the user stays logged out after Redis recovers. Here the store raises
``SessionUnavailableError`` instead, and this middleware answers 503 with ``Retry-After``
without touching any cookie; once Redis is back, the same cookie works.
"""

from __future__ import annotations

import logging
from typing import cast

from django.contrib.sessions.middleware import SessionMiddleware as DjangoSessionMiddleware
from django.http import HttpRequest, HttpResponse, JsonResponse

from project.web.clientip import client_ip
from sessions.backends.redis import SessionStore, SessionUnavailableError

logger = logging.getLogger("sessions")

RETRY_AFTER_SECONDS = 5


def unavailable() -> JsonResponse:
    return JsonResponse(
        {"detail": "Sessions are temporarily unavailable. Please retry shortly."},
        status=503,
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


class SessionMiddleware(DjangoSessionMiddleware):
    def process_request(self, request: HttpRequest) -> None:
        super().process_request(request)
        # What the user's session list shows for a session that signs in on this request.
        # SESSION_ENGINE is sessions.backends.redis, whose SessionStore process_request made.
        session = cast(SessionStore, request.session)
        session.client_ip = client_ip(request)
        # From META: request.headers would build a dict of every header on each request.
        session.user_agent = request.META.get("HTTP_USER_AGENT", "")[:300]

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if isinstance(exception, SessionUnavailableError):
            return unavailable()
        return None

    def process_response(self, request: HttpRequest, response: HttpResponse) -> HttpResponse:
        try:
            return super().process_response(request, response)
        except SessionUnavailableError:
            return unavailable()
