"""``GET /api/notifications/stream/``: the signed-in user's notifications as Server-Sent
Events, as they happen.

Under ASGI (uvicorn) the view is async end to end: the session and the user are read on
redis.asyncio (``request.auser()``: ``SessionStore.aload``, the cached auth record), and
the stream is fed by the process's one reader (``hub``). Each event carries its ``id:``
(its place in the user's stream); a reconnect with ``Last-Event-ID`` (or
``?last_event_id=``, for a first connection that has one) gets exactly what it missed,
within the retention (``services``), and is told with a ``stream.truncated`` event when
some of it is older than that. A ``: heartbeat`` comment every 15 s keeps proxies from
closing an idle stream; a stream ends (``stream.ended``) when its session does.

Under WSGI (``manage.py runserver``) the same view answers, each stream polling Redis on
a connection of its own: fine for one developer, not for production.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from typing import Any

from django.core.handlers.asgi import ASGIRequest
from django.http import HttpRequest, HttpResponseBase, JsonResponse, StreamingHttpResponse
from redis import RedisError

from notifications import async_reads, keys, services
from notifications.hub import (
    BATCH,
    END,
    HEARTBEAT,
    RESET,
    Hub,
    Subscription,
    TooManyStreamsError,
    hub,
)
from project.redis.client import dedicated_client
from sessions.backends.redis import SessionUnavailableError
from sessions.keys import session as session_key_of
from sessions.middleware import unavailable

MAX_STREAMS_PER_USER = 20  # per process: a browser tab each, and a bound on abuse
RETRY_MS = 3000  # how long EventSource waits before reconnecting
ENDED = 'event: end\ndata: {"type":"stream.ended","reason":"the session ended"}\n\n'
TRUNCATED = 'data: {"type":"stream.truncated"}\n\n'


async def stream(request: HttpRequest) -> HttpResponseBase:
    if request.method != "GET":
        return JsonResponse({"detail": f'Method "{request.method}" not allowed.'}, status=405,
                            headers={"Allow": "GET"})  # fmt: skip
    try:
        user = await request.auser()
    except SessionUnavailableError:
        return unavailable()
    if not user.is_authenticated:
        return JsonResponse({"detail": "Authentication credentials were not provided."}, status=403)
    last_id = request.headers.get("Last-Event-ID") or request.GET.get("last_event_id")
    if last_id is not None and not services.ENTRY_ID.match(last_id):
        return JsonResponse({"last_event_id": ["Not a notification id (<ms>-<seq>)."]}, status=400)
    session_key = str(request.session.session_key)
    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    try:
        if not isinstance(request, ASGIRequest):
            body: Any = _polled(user.pk, session_key, last_id)
        else:
            notifications = hub()
            truncated = last_id is not None and await async_reads.missed_some(user.pk, last_id)
            subscription = await notifications.open(
                user.pk, session_key, last_id, limit=MAX_STREAMS_PER_USER
            )
            body = _fed(notifications, subscription, truncated)
    except TooManyStreamsError:
        return JsonResponse({"detail": "Too many open streams."}, status=429,
                            headers={"Retry-After": str(int(HEARTBEAT))})  # fmt: skip
    except RedisError:
        return unavailable()
    return StreamingHttpResponse(body, content_type="text/event-stream", headers=headers)


def _event(entries: list[tuple[str, str]]) -> str:
    return "".join(f"id: {entry_id}\ndata: {data}\n\n" for entry_id, data in entries)


async def _fed(
    notifications: Hub, subscription: Subscription, truncated: bool
) -> AsyncIterator[str]:
    try:
        yield f"retry: {RETRY_MS}\n\n" + (TRUNCATED if truncated else "")
        while True:
            item = await subscription.queue.get()
            if item is END:
                yield ENDED
                return
            if item == RESET:  # fell behind: EventSource reconnects with its Last-Event-ID
                return
            yield ": heartbeat\n\n" if isinstance(item, str) else _event(item)
    finally:  # the end, the client gone (the server cancels us), or the server stopping
        notifications.close(subscription)


def _polled(user_id: int, session_key: str, last_id: str | None) -> Iterator[str]:
    """The WSGI stream: XREAD BLOCK on a connection of its own (BLOCK below its timeout)."""
    client = dedicated_client(socket_timeout=HEARTBEAT + 5)
    stream_key = keys.stream(user_id)
    try:
        if last_id is None:
            last_id = services.newest_id(client.xrevrange(stream_key, count=1))
        yield f"retry: {RETRY_MS}\n\n"
        while True:
            found: Any = client.xread(
                {stream_key: last_id}, count=BATCH, block=int(HEARTBEAT * 1000)
            )
            if found:
                entries = services.entries(found[0][1])
                last_id = entries[-1][0]
                yield _event(entries)
            else:
                yield ": heartbeat\n\n"
            if not client.exists(session_key_of(session_key)):
                yield ENDED
                return
    except RedisError:
        return  # EventSource reconnects after RETRY_MS, with its Last-Event-ID
    finally:
        client.close()
