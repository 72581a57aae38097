"""``/admin/redis/``: the Redis server and what each pattern is doing with it (staff only)."""

from __future__ import annotations

import logging

from django.contrib import admin
from django.contrib.admin.views.decorators import staff_member_required
from django.db import DatabaseError
from django.http import HttpRequest, HttpResponse
from django.template.response import TemplateResponse
from redis import RedisError

from observability import panels
from project.redis.client import get_client
from project.web import observed

logger = logging.getLogger("observability")
REFRESH_SECONDS = 5


@staff_member_required
def dashboard(request: HttpRequest) -> HttpResponse:
    """The page; with ``?panels=1`` only its panels (what the page fetches to refresh)."""
    try:
        client = get_client()
        observed.series.flush(client)  # this process's latest counts are in the panels too
        shown, unavailable = panels.build(client), ""
    except (RedisError, DatabaseError) as exc:
        logger.warning("dashboard: Redis unavailable: %s", exc)
        shown = []
        unavailable = (
            f"Redis is unavailable ({type(exc).__name__}): nothing to show until it answers. "
            "Reads go to the database meanwhile; see /api/health/."
        )
    context = {
        **admin.site.each_context(request),
        "title": "Redis",
        "panels": shown,
        "unavailable": unavailable,
        "refresh_seconds": REFRESH_SECONDS,
        "window_minutes": panels.WINDOW * observed.BUCKET_SECONDS // 60,
    }
    template = (
        "observability/panels.html" if request.GET.get("panels") else "observability/dashboard.html"
    )
    return TemplateResponse(request, template, context)
