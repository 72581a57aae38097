"""The hub against the real Redis, in one event loop: a stream that does not keep up is
closed (to reconnect) instead of queueing without bound."""

from __future__ import annotations

import asyncio
import json

import pytest
from redis import Redis

from notifications import hub as hubs
from notifications import scripts
from sessions.keys import session as session_key

pytestmark = pytest.mark.redis


def test_a_stream_that_falls_behind_is_reset_not_grown(redis_client: Redis) -> None:
    redis_client.hset(session_key("live-session"), "d", "x")  # the hub checks it exists
    redis_client.expire(session_key("live-session"), 60)

    async def run() -> list[object]:
        hub = hubs.Hub()
        subscription = await hub.open(41, "live-session", None, limit=1)
        for n in range(hubs.QUEUED + 5):  # one batch each, none taken by the client
            payload = json.dumps({"type": "points.awarded", "delta": n})
            scripts.notify(redis_client, 41, delivery=f"d{n}", payload=payload,
                           keep=1000, ttl=60, now_ms=n)  # fmt: skip
            await hub.read(41)
        assert hub.streams_of(41) == 0  # no longer fed
        return [subscription.queue.get_nowait() for _ in range(subscription.queue.qsize())]

    assert asyncio.run(run()) == [hubs.RESET]
