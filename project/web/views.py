"""Project-wide views: the API root and health; how the browsable API shows a view's
docstring (``VIEW_DESCRIPTION_FUNCTION``)."""

from __future__ import annotations

import logging
import re
from collections.abc import Callable
from typing import Any, TypeVar

from django.db import DatabaseError, connection
from django.utils.html import escape
from django.utils.safestring import mark_safe
from drf_spectacular.utils import extend_schema, inline_serializer
from redis import Redis, RedisError
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView, get_view_description

from project.redis import server
from project.redis.client import get_client
from project.web.errors import REDIS_RETRY_AFTER

logger = logging.getLogger(__name__)

CODE = re.compile(r"``(.+?)``")  # the docstrings' literals, reST style


def view_description(view: Any, html: bool = False) -> str:
    """DRF's description of a view, its docstring (OPTIONS gets it as written), as the
    browsable API shows it: paragraphs rewrapped, ``literals`` as code, the rest escaped."""
    text = get_view_description(view, html=False)
    if not html:
        return text
    paragraphs = (" ".join(block.split()) for block in re.split(r"\n\s*\n", text))
    return mark_safe("".join(_paragraph(p) for p in paragraphs if p))


def _paragraph(text: str) -> str:
    return "<p>" + CODE.sub(r"<code>\1</code>", escape(text)) + "</p>"


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


# Staff see more under ``detail``: each app registers what it has to say (``health_detail``),
# so this floor imports no app.
DETAILS: dict[str, Callable[[], object]] = {}
Detail = TypeVar("Detail", bound=Callable[[], object])


def health_detail(name: str) -> Callable[[Detail], Detail]:
    """Register ``function()`` as the ``detail.<name>`` staff see in ``/api/health/``."""

    def register(function: Detail) -> Detail:
        DETAILS[name] = function
        return function

    return register


class HealthView(APIView):
    """Report whether Redis and the database answer: 200 when both do, else 503. Settings
    of the Redis server that can cost the project data are listed under ``warnings``
    (still a 200: the service works). Staff also get each app's ``detail`` (the task
    queues, the outbox); a load balancer sends no session and gets none."""

    permission_classes = [AllowAny]
    throttle_classes: list[type] = []  # load balancers poll it

    @extend_schema(
        responses={
            (200, "application/json"): inline_serializer(
                "Health",
                {
                    "redis": serializers.CharField(),
                    "database": serializers.CharField(),
                    "warnings": serializers.ListField(
                        child=serializers.CharField(), required=False
                    ),
                    "detail": serializers.DictField(required=False, help_text="staff only"),
                },
            ),
            (503, "application/json"): inline_serializer(
                "HealthFailing",
                {"redis": serializers.CharField(), "database": serializers.CharField()},
            ),
        }
    )
    def get(self, request: Request) -> Response:
        redis_status, warnings = _check_redis()
        body: dict[str, object] = {"redis": redis_status, "database": _check_database()}
        healthy = body["redis"] == body["database"] == "ok"
        if warnings:
            body["warnings"] = warnings
        if request.user.is_staff:
            body["detail"] = {name: _detail(function) for name, function in DETAILS.items()}
        if healthy:
            return Response(body)
        return Response(body, status=503, headers={"Retry-After": str(REDIS_RETRY_AFTER)})


def _detail(function: Callable[[], object]) -> object:
    try:
        return function()
    except (RedisError, DatabaseError) as exc:
        return f"unavailable ({type(exc).__name__})"


def _check_redis(client: Redis | None = None) -> tuple[str, list[str]]:
    try:
        client = client or get_client()  # a Cluster client connects as it is made
        client.ping()
        warnings = server.warnings(client)
    except RedisError as exc:
        logger.warning("health: redis unavailable: %s", exc)
        return f"unavailable ({type(exc).__name__})", []
    return "ok", warnings


def _check_database() -> str:
    try:
        with connection.cursor() as cursor:
            cursor.execute("SELECT 1")
    except DatabaseError as exc:
        logger.warning("health: database unavailable: %s", exc)
        return f"unavailable ({type(exc).__name__})"
    return "ok"
