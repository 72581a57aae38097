"""Publishing: after commit only, a versioned envelope on a channel and a stream, and
never an error for the request."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import TYPE_CHECKING, Any, cast

import pytest
import redis
from django.db import transaction
from rest_framework.test import APIClient

from project.events import keys as event_keys
from project.events.envelope import Event
from project.events.publisher import Publisher
from project.redis.breaker import CircuitBreaker
from users.models import User

StreamEntries = list[tuple[bytes, dict[bytes, bytes]]]  # what XRANGE returns here

if TYPE_CHECKING:
    from tests.conftest import Outage

pytestmark = [pytest.mark.redis, pytest.mark.django_db]


def published(client: redis.Redis) -> list[dict[str, Any]]:
    entries = client.xrange(event_keys.stream("users"))  # bytes: no decode_responses
    return [json.loads(fields[b"event"]) for _, fields in cast("StreamEntries", entries)]


def test_user_lifecycle_events_after_commit(
    make_user: Callable[..., User],
    redis_client: redis.Redis,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        user = make_user(username="eve")
    with django_capture_on_commit_callbacks(execute=True):
        user.full_name = "Eve"
        user.set_password("another-Horse-battery-8")
        user.save()
    with django_capture_on_commit_callbacks(execute=True):
        user.save()  # nothing changed: no event
    pk = user.pk
    with django_capture_on_commit_callbacks(execute=True):
        user.delete()
    sent = published(redis_client)
    assert [(e["type"], e["user_id"]) for e in sent] == [
        ("user.created", pk), ("user.updated", pk), ("user.deleted", pk),
    ]  # fmt: skip
    assert sent[1]["data"] == {"changed": ["full_name", "password"]}  # names, never values
    assert all(e["v"] == 1 and len(e["id"]) == 32 and e["at"] for e in sent)


def test_login_and_logout_events(
    make_user: Callable[..., User],
    redis_client: redis.Redis,
    django_capture_on_commit_callbacks: Any,
    password: str,
) -> None:
    user = make_user(username="eve")
    client = APIClient()
    with django_capture_on_commit_callbacks(execute=True):
        client.post("/api/auth/login/", {"username": "eve", "password": password}, format="json")
        client.post("/api/auth/logout/")
    types = [e["type"] for e in published(redis_client) if e["user_id"] == user.pk]
    assert types == ["user.logged_in", "user.logged_out"]


def test_a_rolled_back_change_publishes_nothing(
    make_user: Callable[..., User],
    redis_client: redis.Redis,
    django_capture_on_commit_callbacks: Any,
) -> None:
    with django_capture_on_commit_callbacks(execute=True):
        try:
            with transaction.atomic():
                make_user(username="ghost")
                raise RuntimeError
        except RuntimeError:
            pass
    assert published(redis_client) == []


def test_the_channel_carries_the_same_envelope(redis_client: redis.Redis) -> None:
    pubsub = redis_client.pubsub()
    pubsub.subscribe(event_keys.channel("users"))
    assert pubsub.get_message(timeout=1)["type"] == "subscribe"
    event = Event("user.updated", 7, {"changed": ["email"]})
    assert Publisher().publish("users", event) is True
    message = pubsub.get_message(timeout=1)
    assert Event.from_json(message["data"]) == event
    pubsub.close()


def test_redis_down_defers_and_never_raises(redis_client: redis.Redis, redis_down: Outage) -> None:
    publisher = Publisher(breaker=CircuitBreaker(cooldown=0))
    first = Event("user.created", 1)
    assert publisher.publish("users", first) is False
    redis_down.end()
    assert publisher.pending() == 1
    second = Event("user.deleted", 1)
    assert publisher.publish("users", second) is True  # the outbox goes first
    assert [e["id"] for e in published(redis_client)] == [first.id, second.id]
    assert publisher.pending() == 0


@pytest.mark.parametrize(
    "raw",
    [
        b"not json",
        b"[]",
        b'{"v": 2}',
        b'{"v": 1, "id": "x", "type": "t", "at": "", "user_id": "1", "data": {}}',
        b'{"v": true, "id": "x", "type": "t", "at": "", "user_id": 1, "data": {}}',
        b"[" * 100_000 + b"]" * 100_000,  # a poison message: RecursionError in json.loads
    ],
)
def test_malformed_envelopes_are_refused(raw: bytes) -> None:
    with pytest.raises(ValueError, match=r"not JSON|not an object|version|bad fields|nested"):
        Event.from_json(raw)
