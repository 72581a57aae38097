"""Writes in a request either mark the cache or are refused with a 503 (``policy.py``)."""

from __future__ import annotations

from typing import Any

from django.http import HttpRequest, HttpResponse, JsonResponse
from django.utils.deprecation import MiddlewareMixin

from caching.policy import CacheUnavailableError, refusing

DETAIL = "The cache is unavailable, so the change was not saved. Please retry shortly."


class ReadYourWritesMiddleware(MiddlewareMixin):
    def __call__(self, request: HttpRequest) -> Any:
        with refusing():
            return super().__call__(request)

    async def __acall__(self, request: HttpRequest) -> Any:
        with refusing():
            return await super().__acall__(request)

    def process_exception(self, request: HttpRequest, exception: Exception) -> HttpResponse | None:
        if not isinstance(exception, CacheUnavailableError):
            return None
        headers = {"Retry-After": str(exception.retry_after)}
        if request.path.startswith("/api/"):
            return JsonResponse({"detail": DETAIL}, status=503, headers=headers)
        return HttpResponse(DETAIL, status=503, content_type="text/plain", headers=headers)
