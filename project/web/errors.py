"""Errors as API clients need them: JSON with a ``detail`` on every ``/api/`` path, the
site's HTML pages elsewhere.

``api_exception_handler`` is DRF's, plus ``Retry-After`` and the throttle's ``wait``, and a
503 with ``Retry-After`` for a Redis error no feature handled (never a 500); the
views below are Django's 400, 404, 500 and CSRF failure pages (``handler400``,
``handler404``, ``handler500``, ``CSRF_FAILURE_VIEW``) answering JSON under ``/api/``.
Django skips the 404 and 500 handlers in DEBUG (its technical pages, HTML with the
traceback) and a plain Django view's 405 is empty: ``api_json_errors`` (a middleware) turns
any error under ``/api/`` that is not JSON into JSON, leaving the browsable API's pages be.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

from asgiref.sync import iscoroutinefunction
from django.conf import settings
from django.core.exceptions import DisallowedHost, RequestDataTooBig, TooManyFieldsSent
from django.http import HttpRequest, HttpResponse, HttpResponseBase, JsonResponse
from django.utils.decorators import sync_and_async_middleware
from django.views import defaults
from django.views.csrf import csrf_failure as django_csrf_failure
from redis import RedisError
from rest_framework.exceptions import Throttled
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.response import Response
from rest_framework.views import exception_handler, set_rollback

logger = logging.getLogger("project.web")


REDIS_RETRY_AFTER = 5  # seconds: the breaker's cool-down, and a blip's usual length


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    if isinstance(exc, RedisError):  # a view whose answer lives in Redis: say when to retry
        logger.warning("api: Redis unavailable in %s: %s", context.get("view"), exc)
        set_rollback()  # nothing half-done stays, under ATOMIC_REQUESTS
        return Response(
            {"detail": "A service this answer needs (Redis) is unavailable. Retry shortly."},
            status=503,
            headers={"Retry-After": str(REDIS_RETRY_AFTER)},
        )
    response = exception_handler(exc, context)
    if response is None:
        return None
    # Throttled.__init__ sets .wait (whole seconds or None); the DRF stubs leave it out.
    wait = exc.wait if isinstance(exc, Throttled) else None  # type: ignore[attr-defined]
    if wait is not None:
        response.data["wait"] = wait  # seconds, as in Retry-After
    retry_after = getattr(exc, "retry_after", None)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response


API_PREFIX = "/api/"
DETAILS = {404: "Not found.", 500: "Internal server error."}  # as the handlers below say


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith(API_PREFIX)


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """JSON 404 under ``/api/`` (an unknown path or a malformed id), HTML elsewhere."""
    if _wants_json(request):
        return JsonResponse({"detail": DETAILS[404]}, status=404)
    return defaults.page_not_found(request, exception)


def bad_request(request: HttpRequest, exception: Exception) -> HttpResponse:
    """JSON 400 for API clients: a Host this site does not serve, a body or a form past
    Django's limits (``SuspiciousOperation``, which Django answers before any view)."""
    if not _wants_json(request):
        return defaults.bad_request(request, exception)
    if isinstance(exception, DisallowedHost):
        detail = "The Host header names no site served here."
    elif isinstance(exception, RequestDataTooBig):
        detail = (
            f"The request body is too large (at most {settings.DATA_UPLOAD_MAX_MEMORY_SIZE} bytes)."
        )
    elif isinstance(exception, TooManyFieldsSent):
        detail = f"Too many fields (at most {settings.DATA_UPLOAD_MAX_NUMBER_FIELDS})."
    else:
        detail = "Bad request."
    return JsonResponse({"detail": detail}, status=400)


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": DETAILS[500]}, status=500)
    return defaults.server_error(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """JSON 403 for API clients whose unsafe request lacks a valid CSRF token."""
    if _wants_json(request):
        return JsonResponse(
            {
                "detail": f"CSRF failed: {reason.rstrip('.')}. Fetch /api/auth/csrf/ and send "
                "its token in the X-CSRFToken header."
            },
            status=403,
        )
    return django_csrf_failure(request, reason)


@sync_and_async_middleware
def api_json_errors(get_response: Any) -> Any:
    """Every error response under ``/api/`` is JSON, in DEBUG too (see the module's doc)."""
    if iscoroutinefunction(get_response):

        async def middleware(request: HttpRequest) -> HttpResponseBase:
            return as_json(request, await get_response(request))

    else:

        def middleware(request: HttpRequest) -> HttpResponseBase:  # type: ignore[misc]
            return as_json(request, get_response(request))

    return middleware


def as_json(request: HttpRequest, response: HttpResponseBase) -> HttpResponseBase:
    """``response`` as JSON if it is an error under ``/api/`` in another type: its DRF
    ``detail``, else the status's (a traceback never leaves). The browsable API's pages
    (HTML around the JSON), streams and JSON answers are returned as they are."""
    if (
        response.status_code < 400
        or not request.path.startswith(API_PREFIX)
        or response.streaming
        or "json" in response.get("Content-Type", "")
        or isinstance(getattr(response, "accepted_renderer", None), BrowsableAPIRenderer)
    ):
        return response
    data = getattr(response, "data", None)  # a DRF answer in YAML or a template's HTML
    if not (isinstance(data, dict) and "detail" in data):
        data = {"detail": _detail(request, response.status_code)}
    answer = JsonResponse(data, status=response.status_code)
    for header, value in response.items():  # Allow, Retry-After, Vary, the middlewares'...
        if header.lower() not in ("content-type", "content-length"):
            answer[header] = value
    answer.cookies = response.cookies
    return answer


def _detail(request: HttpRequest, status: int) -> str:
    if status == 405:
        return f'Method "{request.method}" not allowed.'  # as DRF says it
    return DETAILS.get(status) or f"{HTTPStatus(status).phrase}."
