"""The notifications bench's anchor: a minimal Django Channels app, a group per user and a
``channels_redis`` group send to it, over WebSockets (bench/notifications.py, section 5).

    uvicorn bench.channels_app:application --workers 1

Self-contained: its own settings (no apps, no database, no middleware), the channel layer
``channels_redis.core.RedisChannelLayer`` on the bench's own Redis (``LOCAL_REDIS_DIR``, as
bench.common.configure() sets it), reached on its unix socket. ``ws/notifications/?user=<id>``
joins group ``user.<id>`` and forwards the group's ``notify`` messages to the socket as text.
Unlike ``/api/notifications/stream/`` there is no authentication (the user is whatever the
query string says), nothing kept in Redis to replay and no per-user limit. ``/api/health/``
answers 200 over HTTP, for bench.common.served(); every other HTTP path 404.

The project itself never imports this module (channels is in requirements-bench.txt only).
"""

from __future__ import annotations

from typing import Any
from urllib.parse import parse_qs

from django.conf import settings

from project.redis.local import LocalRedis


def channel_layers() -> dict[str, Any]:
    """``CHANNEL_LAYERS``, the server's and the bench process's (which group-sends)."""
    return {
        "default": {
            "BACKEND": "channels_redis.core.RedisChannelLayer",
            # channels_redis hands the host's keys to redis.asyncio's ConnectionPool.from_url,
            # which reads unix:///path?db=0 as a unix socket. redis-py 8 reads with a 5 s
            # socket timeout by default, as long as the layer's BZPOPMIN blocks (5 s): an
            # idle server's receive then fails and takes down a consumer every ~5 s
            # (django/channels_redis#422); the workaround there is no socket timeout. The
            # pool keeps redis-py's default cap of 100 connections.
            "CONFIG": {
                "hosts": [{"address": LocalRedis.from_environ().url, "socket_timeout": None}]
            },
        }
    }


if not settings.configured:  # the server; the bench process has the project's settings
    settings.configure(
        DEBUG=False,
        INSTALLED_APPS=[],
        DATABASES={},
        ROOT_URLCONF=__name__,
        CHANNEL_LAYERS=channel_layers(),
    )
    import django

    django.setup()

from channels.generic.websocket import AsyncWebsocketConsumer  # noqa: E402
from channels.routing import ProtocolTypeRouter, URLRouter  # noqa: E402
from django.urls import path  # noqa: E402

urlpatterns: list[Any] = []  # ROOT_URLCONF: nothing is served through Django's URLs


class Notifications(AsyncWebsocketConsumer):
    """Group ``user.<id>`` for ``?user=<id>``; its ``notify`` messages, sent on as text."""

    group = ""

    async def connect(self) -> None:
        query = parse_qs(self.scope["query_string"].decode())
        self.group = f"user.{int(query['user'][0])}"
        await self.channel_layer.group_add(self.group, self.channel_name)
        await self.accept()

    async def disconnect(self, code: int) -> None:
        if self.group:
            await self.channel_layer.group_discard(self.group, self.channel_name)

    async def notify(self, event: dict[str, Any]) -> None:
        await self.send(text_data=event["text"])


async def http(scope: dict[str, Any], receive: Any, send: Any) -> None:
    """200 on /api/health/, 404 elsewhere."""
    found = scope["path"] == "/api/health/"
    body = b'{"status":"ok"}' if found else b"not found"
    await send(
        {
            "type": "http.response.start",
            "status": 200 if found else 404,
            "headers": [(b"content-type", b"application/json" if found else b"text/plain")],
        }
    )
    await send({"type": "http.response.body", "body": body})


application = ProtocolTypeRouter(
    {
        "http": http,
        "websocket": URLRouter([path("ws/notifications/", Notifications.as_asgi())]),
    }
)
