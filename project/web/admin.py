"""The project's admin site: Django's, with the Redis server's warnings on its index."""

from __future__ import annotations

from typing import Any

from django.contrib.admin import AdminSite
from django.http import HttpRequest
from django.template.response import TemplateResponse
from redis import RedisError

from project.redis import server
from project.redis.client import get_client


class ProjectAdminSite(AdminSite):
    index_template = "admin/project_index.html"

    def index(
        self, request: HttpRequest, extra_context: dict[str, Any] | None = None
    ) -> TemplateResponse:
        try:
            warnings = server.warnings(get_client())
        except RedisError as exc:
            warnings = [f"unavailable ({type(exc).__name__}): the cache reads the database."]
        return super().index(request, {**(extra_context or {}), "redis_warnings": warnings})
