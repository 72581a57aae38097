"""Django's ASGI handler, for responses that stay open (Server-Sent Events).

Django runs each ASGI request in an asgiref ``ThreadSensitiveContext``: the first sync code
the request runs (every ``MiddlewareMixin`` middleware's hooks run in a thread) gets a
thread of the request's own, which lives until the response ends. For a stream that is its
whole life: 5,000 open streams were 5,000 idle threads, most of a stream's memory. The
paths given here run outside such a context: their sync moments (the middleware before
the view returns) share the process's one sync thread, and an open stream holds none.
"""

from __future__ import annotations

from collections.abc import Collection
from typing import Any

from django.core.handlers.asgi import ASGIHandler


class StreamingASGIHandler(ASGIHandler):
    def __init__(self, *, streaming: Collection[str]) -> None:
        super().__init__()
        self.streaming = frozenset(streaming)

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] == "http" and scope["path"] in self.streaming:
            await self.handle(scope, receive, send)
        else:
            await super().__call__(scope, receive, send)
