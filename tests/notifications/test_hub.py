"""The hub against the real Redis, in one event loop: a stream that does not keep up is
closed (to reconnect) instead of queueing without bound."""

from __future__ import annotations

import asyncio
import json

import pytest
from redis import Redis

from notifications import hub as hubs
from notifications import keys, scripts
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


def test_concurrent_opens_never_pass_the_limit(redis_client: Redis) -> None:
    async def run() -> list[object]:
        hub = hubs.Hub()
        opens = [hub.open(42, "live-session", None, limit=2) for _ in range(6)]
        return await asyncio.gather(*opens, return_exceptions=True)

    results = asyncio.run(run())
    refused = [r for r in results if isinstance(r, hubs.TooManyStreamsError)]
    assert (len(results) - len(refused), len(refused)) == (2, 4)


def test_a_wake_that_is_not_a_user_id_does_not_stop_the_reader(redis_client: Redis) -> None:
    redis_client.hset(session_key("live-session"), "d", "x")
    redis_client.expire(session_key("live-session"), 60)

    async def run() -> hubs.Entries | str | None:
        hub = hubs.Hub()
        subscription = await hub.open(43, "live-session", None, limit=1)
        await asyncio.wait_for(hub.connected.wait(), 5)
        redis_client.publish(keys.wake_channel(), "not a user id")
        payload = json.dumps({"type": "points.awarded", "delta": 1})
        scripts.notify(redis_client, 43, delivery="after-garbage", payload=payload,
                       keep=1000, ttl=60, now_ms=1)  # fmt: skip
        return await asyncio.wait_for(subscription.queue.get(), 5)

    delivered = asyncio.run(run())
    assert isinstance(delivered, list)
    assert [json.loads(data)["delta"] for _, data in delivered] == [1]
