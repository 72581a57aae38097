"""Project-wide views: the API root, health, and JSON error pages for the API."""

from __future__ import annotations

import logging

from django.db import DatabaseError, connection
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.views import defaults
from django.views.csrf import csrf_failure as django_csrf_failure
from drf_spectacular.utils import extend_schema, inline_serializer
from redis import Redis, RedisError
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from project.redis import get_client

logger = logging.getLogger(__name__)

# Route names listed by the API root, in the order a newcomer would try them.
API_ROOT_ROUTES = {
    "users": "user-list",
    "csrf": "auth-csrf",
    "login": "auth-login",
    "logout": "auth-logout",
    "me": "auth-me",
    "sessions": "auth-sessions",
    "searches": "me-searches",
    "leaderboard": "leaderboard",
    "common_tags": "tags-common",
    "health": "health",
    "cache_stats": "cache-stats",
    "schema": "schema",
    "docs": "docs",
}


class ApiRootView(APIView):
    """The entry point of the API: every endpoint, browsable in a web browser."""

    permission_classes = [AllowAny]

    @extend_schema(exclude=True)
    def get(self, request: Request) -> Response:
        return Response(
            {name: reverse(route, request=request) for name, route in API_ROOT_ROUTES.items()}
        )


class HealthView(APIView):
    """Report whether Redis and the database answer: 200 when both do, else 503."""

    authentication_classes: list = []
    permission_classes = [AllowAny]
    throttle_classes: list = []  # load balancers poll it

    @extend_schema(
        responses={
            (200, "application/json"): inline_serializer(
                "Health", {"redis": serializers.CharField(), "database": serializers.CharField()}
            ),
            (503, "application/json"): inline_serializer(
                "HealthFailing",
                {"redis": serializers.CharField(), "database": serializers.CharField()},
            ),
        }
    )
    def get(self, request: Request) -> Response:
        status = {"redis": _check_redis(), "database": _check_database()}
        healthy = all(value == "ok" for value in status.values())
        return Response(status, status=200 if healthy else 503)


def _check_redis(client: Redis | None = None) -> str:
    try:
        (client or get_client()).ping()
    except RedisError as exc:
        logger.warning("health: redis unavailable: %s", exc)
        return f"unavailable ({type(exc).__name__})"
    return "ok"


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        logger.warning("health: database unavailable: %s", exc)
        return f"unavailable ({type(exc).__name__})"
    return "ok"


def _wants_json(request: HttpRequest) -> bool:
    return request.path.startswith("/api/") and "text/html" not in request.headers.get("Accept", "")


def not_found(request: HttpRequest, exception: Exception) -> HttpResponse:
    """JSON 404 for API clients (an unknown path or a malformed id), HTML for browsers."""
    if _wants_json(request):
        return JsonResponse({"detail": "Not found."}, status=404)
    return defaults.page_not_found(request, exception)


def server_error(request: HttpRequest) -> HttpResponse:
    if _wants_json(request):
        return JsonResponse({"detail": "Internal server error."}, status=500)
    return defaults.server_error(request)


def csrf_failure(request: HttpRequest, reason: str = "") -> HttpResponse:
    """JSON 403 for API clients whose unsafe request lacks a valid CSRF token."""
    if _wants_json(request):
        return JsonResponse(
            {
                "detail": f"CSRF failed: {reason}. Fetch /api/auth/csrf/ and send its token "
                "in the X-CSRFToken header."
            },
            status=403,
        )
    return django_csrf_failure(request, reason)
