"""The live stream under a real uvicorn, against the suite's Redis: a notification
committed in another process arrives; a reconnect with ``Last-Event-ID`` gets exactly
what it missed; a stream ends with its session; the Redis connections of a process do not
grow with its streams; SIGTERM closes the streams promptly."""

from __future__ import annotations

import http.client
import json
import signal
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import pytest
from redis import Redis
from redis.cluster import RedisCluster

from notifications import scripts
from project.redis.local import LocalRedis
from tests.integration.servers import Browser, shell, uvicorn
from tests.notifications.conftest import PASSWORD, award, signed_in

pytestmark = pytest.mark.redis

STREAM = "/api/notifications/stream/"


class EventStream:
    """An EventSource's side of one stream, read event by event."""

    def __init__(self, base: str, browser: Browser | None, *, last_event_id: str = "") -> None:
        url = urlsplit(base)
        self.connection = http.client.HTTPConnection(url.hostname or "", url.port, timeout=10)
        headers = {"Accept": "text/event-stream"}
        if browser is not None:
            headers["Cookie"] = "; ".join(f"{c.name}={c.value}" for c in browser.jar)
        if last_event_id:
            headers["Last-Event-ID"] = last_event_id
        self.connection.request("GET", STREAM, headers=headers)
        self.response = self.connection.getresponse()

    def next(self, *, heartbeats: bool = False) -> dict[str, Any]:
        """The next event (``id``, ``event``, ``data``), or ``{"comment": …}`` if asked."""
        event: dict[str, Any] = {}
        while True:
            line = self.response.readline().decode()
            if line == "":
                return {"closed": True}
            line = line.rstrip("\n")
            if line == "":
                if "data" in event or (heartbeats and "comment" in event):
                    return event
                event = {}
                continue
            field, _, value = line.partition(":")
            value = value.removeprefix(" ")
            if field == "":
                event["comment"] = value
            elif field == "data":
                event["data"] = json.loads(value)
            elif field in ("id", "event"):
                event[field] = value

    def close(self) -> None:
        self.connection.close()


def test_a_committed_notification_arrives_live(server: str, env: dict[str, str]) -> None:
    alice = signed_in(server, env, "alice")
    stream = EventStream(server, alice)
    assert stream.response.status == 200
    assert stream.response.getheader("Content-Type") == "text/event-stream"
    award(env, "alice", 5)  # another process, after its commit
    event = stream.next()
    assert event["data"]["type"] == "points.awarded"
    assert (event["data"]["delta"], event["data"]["points"]) == (5, 5)
    assert event["id"]
    stream.close()


def test_a_reconnect_gets_exactly_what_it_missed(server: str, env: dict[str, str]) -> None:
    bob = signed_in(server, env, "bob")
    stream = EventStream(server, bob)
    award(env, "bob", 1)
    seen = stream.next()["id"]
    stream.close()
    award(env, "bob", 2, 3, 4)  # while disconnected
    again = EventStream(server, bob, last_event_id=seen)
    missed = [again.next() for _ in range(3)]
    assert [e["data"]["delta"] for e in missed] == [2, 3, 4]
    award(env, "bob", 5)
    assert again.next()["data"]["delta"] == 5  # and live again, nothing twice
    ids = [seen, *(e["id"] for e in missed)]
    assert ids == sorted(ids, key=lambda i: tuple(map(int, i.split("-"))))
    again.close()


def test_a_stream_ends_with_its_session(server: str, env: dict[str, str]) -> None:
    carol = signed_in(server, env, "carol")
    laptop = signed_in(server, env, "carol")
    stream = EventStream(server, carol)
    assert laptop.call(server, "POST", "/api/auth/sessions/revoke-all/",
                       {"keep_current": True})[0] == 200  # fmt: skip
    revoked = stream.next()
    assert revoked["data"]["type"] == "sessions.revoked"
    assert stream.next()["data"]["type"] == "stream.ended"
    assert stream.next() == {"closed": True}
    # Its reconnect is refused: EventSource stops on anything but a 200.
    assert EventStream(server, carol).response.status == 403

    phone = EventStream(server, laptop)
    assert laptop.call(server, "POST", "/api/auth/logout/")[0] == 204
    assert phone.next()["data"]["type"] == "stream.ended"


def test_anonymous_and_bad_ids_are_refused_as_json(server: str, env: dict[str, str]) -> None:
    anonymous = EventStream(server, None)
    assert anonymous.response.status == 403
    assert "detail" in json.loads(anonymous.response.read())
    dave = signed_in(server, env, "dave")
    bad = EventStream(server, dave, last_event_id="not-an-id")
    assert bad.response.status == 400
    assert "last_event_id" in json.loads(bad.response.read())


def test_redis_connections_do_not_grow_with_streams(
    server: str, env: dict[str, str], redis_client: Redis
) -> None:
    users = [signed_in(server, env, f"many{i}") for i in range(3)]
    first = EventStream(server, users[0])
    award(env, "many0", 1)
    assert first.next()["data"]["type"] == "points.awarded"  # the hub is up and reading
    before = redis_client.info("clients")["connected_clients"]
    streams = [EventStream(server, users[i % 3]) for i in range(45)]
    refused = [(s.response.status, s.response.read()) for s in streams if s.response.status != 200]
    assert not refused, refused  # each open, or what the server said instead
    for i in range(3):
        award(env, f"many{i}", 7)
    for n, stream in enumerate(streams):
        event = stream.next()
        assert "data" in event, (n, event)  # e.g. {"closed": True}: the server ended it
        assert event["data"]["delta"] == 7
    after = redis_client.info("clients")["connected_clients"]
    assert after - before <= 3, (before, after)  # a few reads in parallel, not 45
    for stream in [first, *streams]:
        stream.close()


def test_sigterm_closes_open_streams_within_seconds(env: dict[str, str], tmp_path: Path) -> None:
    with uvicorn(env, log=tmp_path / "uvicorn.log") as (base, process):
        erin = signed_in(base, env, "erin")
        stream = EventStream(base, erin)
        award(env, "erin", 1)
        assert stream.next()["data"]["type"] == "points.awarded"
        started = time.monotonic()
        process.send_signal(signal.SIGTERM)
        assert stream.next() == {"closed": True}
        process.wait(timeout=10)
        assert time.monotonic() - started < 6


def test_streams_resume_across_a_redis_restart(env: dict[str, str], tmp_path: Path) -> None:
    own = LocalRedis(tmp_path / "redis", persistent=True)  # saved on SHUTDOWN, loaded again
    own.ensure_running()
    environ = {**env, "REDIS_URL": own.url}
    try:
        with uvicorn(environ, log=tmp_path / "uvicorn.log") as (base, _):
            grace = signed_in(base, environ, "grace")
            stream = EventStream(base, grace)
            award(environ, "grace", 1)
            first = stream.next()
            own.stop()
            own.ensure_running()  # the hub's connection dropped; it reconnects by itself
            award(environ, "grace", 2)  # its wake may come before the hub is back: no matter
            assert stream.next()["data"]["delta"] == 2
            stream.close()
            award(environ, "grace", 3)
            again = EventStream(base, grace, last_event_id=first["id"])
            assert [again.next()["data"]["delta"] for _ in range(2)] == [2, 3]
            again.close()
    finally:
        own.stop()


def killed_pubsub_clients(client: Redis) -> int:
    """Drop every pub/sub connection: on a Cluster, the hub's may be on any node."""
    if isinstance(client, RedisCluster):
        killed = client.client_kill_filter(_type="pubsub", target_nodes=RedisCluster.ALL_NODES)
        return sum(killed.values()) if isinstance(killed, dict) else int(killed)
    return int(client.client_kill_filter(_type="pubsub"))


def test_a_wake_lost_with_the_connection_costs_nothing(
    server: str, env: dict[str, str], redis_client: Redis
) -> None:
    heidi = signed_in(server, env, "heidi")
    user_id = heidi.call(server, "GET", "/api/auth/me/")[1]["id"]
    stream = EventStream(server, heidi)
    award(env, "heidi", 1)
    assert stream.next()["data"]["delta"] == 1  # the hub is subscribed
    # Its pub/sub connection dropped, and the next wake published to nobody: the hub
    # resubscribes (after a pause of its own) and reads every open stream.
    assert killed_pubsub_clients(redis_client) >= 1
    payload = json.dumps({"type": "points.awarded", "delta": 9, "points": 10})
    scripts.notify(redis_client, user_id, delivery="lost-wake", payload=payload,
                   keep=1000, ttl=3600, now_ms=int(time.time() * 1000))  # fmt: skip
    assert stream.next()["data"]["delta"] == 9
    stream.close()


def test_a_client_gone_leaves_nothing_open(env: dict[str, str], tmp_path: Path) -> None:
    shell(env, f"""
from users.models import User
User.objects.create_user("ivan", "ivan@example.com", {PASSWORD!r}, is_staff=True)
""")  # fmt: skip
    with uvicorn(env, log=tmp_path / "uvicorn.log") as (base, _):
        ivan = signed_in(base, env, "ivan")

        def open_streams() -> int:
            detail = ivan.call(base, "GET", "/api/health/")[1]["detail"]
            return int(detail["notifications"]["open_streams"])

        streams = [EventStream(base, ivan) for _ in range(3)]
        assert open_streams() == 3
        for stream in streams:
            stream.close()
        deadline = time.monotonic() + 10
        while open_streams() and time.monotonic() < deadline:
            time.sleep(0.1)
        assert open_streams() == 0


def test_redis_down_is_a_503_that_keeps_the_cookie(env: dict[str, str], tmp_path: Path) -> None:
    own = LocalRedis(tmp_path / "redis", persistent=True)
    own.ensure_running()
    environ = {**env, "REDIS_URL": own.url}
    try:
        with uvicorn(environ, log=tmp_path / "uvicorn.log") as (base, _):
            judy = signed_in(base, environ, "judy")
            own.stop()
            down = EventStream(base, judy)
            assert down.response.status == 503
            assert down.response.getheader("Retry-After")
            assert down.response.getheader("Set-Cookie") is None  # nobody is logged out
            assert "detail" in json.loads(down.response.read())
            own.ensure_running()
            back = EventStream(base, judy)  # the same cookie, once Redis is back
            assert back.response.status == 200
            back.close()
    finally:
        own.stop()
