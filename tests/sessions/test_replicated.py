"""Under Sentinel, a logout or a revocation is on a replica before it answers (runs in
`make test-sentinel` only)."""

from __future__ import annotations

import threading
from collections.abc import Callable
from typing import Any

import pytest
import redis
from django.conf import settings

from scripts.topology import PRIMARY, REPLICA, SENTINEL, primary_address
from sessions import keys
from tests.clients import BrowserClient
from users.models import User

pytestmark = [pytest.mark.redis, pytest.mark.django_db]


@pytest.fixture(autouse=True)
def sentinel_only() -> None:
    if settings.REDIS_TOPOLOGY.kind != "sentinel":
        pytest.skip("needs the Sentinel topology (make test-sentinel)")


def servers() -> tuple[redis.Redis, redis.Redis]:
    """The primary and the replica, wherever a failover has left them."""
    address = primary_address(redis.Redis(port=SENTINEL))
    assert address is not None
    primary = address[1]
    return redis.Redis(port=primary), redis.Redis(port=REPLICA if primary == PRIMARY else PRIMARY)


def commands_during(primary: redis.Redis, work: Callable[[], object]) -> list[dict[str, Any]]:
    """What the primary received while ``work`` ran (MONITOR), from every client."""
    seen: list[dict[str, Any]] = []
    started = threading.Event()

    def watch() -> None:
        with primary.monitor() as monitor:
            started.set()
            for command in monitor.listen():
                seen.append(command)
                if "monitor-end" in command["command"]:
                    return

    thread = threading.Thread(target=watch)
    thread.start()
    started.wait(5)
    primary.ping()  # MONITOR is on once it echoes this
    work()
    primary.echo("monitor-end")
    thread.join(10)
    return seen


def test_a_revoke_all_waits_for_a_replica_on_its_own_connection(
    make_user: Callable[..., User],
) -> None:
    make_user(username="bob")
    laptop, phone = BrowserClient(HTTP_USER_AGENT="laptop"), BrowserClient(HTTP_USER_AGENT="phone")
    laptop.sign_in("bob")
    phone.sign_in("bob")
    primary, replica = servers()
    revoked = phone.cookies["sessionid"].value
    seen = commands_during(primary, lambda: laptop.unsafe("post", "/api/auth/sessions/revoke-all/"))
    dels = [c for c in seen if c["command"].startswith("DEL ") and revoked in c["command"]]
    waits = [c for c in seen if c["command"].startswith("WAIT ")]
    assert dels, "the revoked session was not deleted"
    assert waits, "no WAIT for a replica"
    assert (dels[0]["client_address"], dels[0]["client_port"]) == (
        waits[0]["client_address"], waits[0]["client_port"],
    )  # fmt: skip
    assert replica.exists(keys.session(revoked)) == 0
