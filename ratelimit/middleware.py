"""``RateLimit-Policy`` and ``RateLimit`` response headers (IETF httpapi rate-limit
headers draft, structured-field syntax), from what the throttles of the request decided:

    RateLimit-Policy: "anon";q=100;w=60
    RateLimit: "anon";r=42;t=17

``q`` quota, ``w`` window (s), ``r`` remaining, ``t`` seconds until the oldest counted
request leaves the window. ``Retry-After`` on a 429 comes from DRF (whole seconds,
rounded up).
"""

from __future__ import annotations

import math
from collections.abc import Callable

from django.http import HttpRequest, HttpResponse


class RateLimitHeadersMiddleware:
    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        book = getattr(request, "ratelimit", None)
        if book is not None and book.applied:
            response["RateLimit-Policy"] = ", ".join(
                f'"{a.policy}";q={a.rate.limit};w={a.rate.window}' for a in book.applied
            )
            response["RateLimit"] = ", ".join(
                f'"{a.policy}";r={a.verdict.remaining};t={math.ceil(a.verdict.reset)}'
                for a in book.applied
            )
        return response
