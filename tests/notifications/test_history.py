"""Notifications written after commit from every path that causes them, read back as
history, against the real Redis; a re-delivery is not written twice, and Redis down at the
commit loses nothing."""

from __future__ import annotations

from collections.abc import Callable
from datetime import timedelta
from typing import Any

import pytest
from django.db import transaction

from jobs import relay
from jobs.models import OutboxJob
from notifications import services
from tests.clients import BrowserClient
from tests.conftest import Outage
from users import leaderboard
from users.models import User

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def types(user: User) -> list[str]:
    return [n.data["type"] for n in services.history(user.pk, limit=100)]


@pytest.fixture(autouse=True)
def fresh_breaker(monkeypatch: pytest.MonkeyPatch) -> None:
    from project.redis.breaker import CircuitBreaker

    monkeypatch.setattr(relay, "breaker", CircuitBreaker(cooldown=0))


def test_points_sign_ins_revocations_and_password_changes_notify(
    make_user: Callable[..., User], new_api: Callable[..., BrowserClient], password: str
) -> None:
    user = make_user(username="alice")
    phone = new_api(HTTP_USER_AGENT="Phone/1.0", REMOTE_ADDR="10.0.0.7")
    phone.sign_in("alice")
    laptop = new_api()
    laptop.sign_in("alice")
    leaderboard.add_points(user_id=user.pk, delta=5)
    assert (
        laptop.unsafe("post", "/api/auth/sessions/revoke-all/", {"keep_current": True}).status_code
        == 200
    )
    change = {"old_password": password, "new_password": "another-Horse-battery-7"}
    assert laptop.unsafe("post", "/api/auth/password/", change).status_code == 204

    [*_, created, points, revoked, changed] = services.history(user.pk, limit=100)[::-1]
    assert created.data == {"type": "session.created", "at": created.data["at"],
                            "ip": "127.0.0.1", "user_agent": ""}  # fmt: skip
    assert points.data["type"] == "points.awarded"
    assert (points.data["delta"], points.data["points"]) == (5, 5)
    assert (revoked.data["type"], revoked.data["count"]) == ("sessions.revoked", 1)
    assert changed.data["type"] == "password.changed"
    first = services.history(user.pk, limit=100)[-1]
    assert (first.data["user_agent"], first.data["ip"]) == ("Phone/1.0", "10.0.0.7")
    assert OutboxJob.objects.count() == 0  # each handed off at its commit


def test_a_password_changed_outside_the_api_notifies_too(make_user: Callable[..., User]) -> None:
    user = make_user()
    user.set_password("changed-in-a-Shell-42")
    user.save()
    user.full_name = "Not a password change"
    user.save()
    assert types(user) == ["password.changed"]


def test_a_rolled_back_award_notifies_nobody(make_user: Callable[..., User]) -> None:
    user = make_user()

    def award_then_fail() -> None:
        with transaction.atomic():
            leaderboard.add_points(user_id=user.pk, delta=3)
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        award_then_fail()
    assert types(user) == []


def test_a_redelivered_notification_is_written_once(make_user: Callable[..., User]) -> None:
    user = make_user()
    message: dict[str, Any] = {"user": user.pk, "notification": {"type": "points.awarded"}}
    services.deliver("row-1", message)
    services.deliver("row-1", message)  # the relay again: the row's delete had failed
    services.deliver("row-2", message)
    assert types(user) == ["points.awarded", "points.awarded"]


def test_redis_down_at_the_commit_keeps_the_notification_for_the_relay(
    make_user: Callable[..., User], redis_down: Outage
) -> None:
    user = make_user()
    with transaction.atomic():
        User.objects.filter(pk=user.pk).update(points=7)
        services.notify(user.pk, "points.awarded", delta=7, points=7)
    assert OutboxJob.objects.filter(topic=services.SINK).count() == 1
    redis_down.end()

    relay.relay_left(older_than=timedelta(0))  # the notification and the user's events
    assert OutboxJob.objects.count() == 0
    assert relay.relay_left(older_than=timedelta(0)) == 0
    [notification] = services.history(user.pk)
    assert notification.data["points"] == 7


def test_history_pages_back_and_marks_read(
    make_user: Callable[..., User], api: BrowserClient, settings: Any
) -> None:
    settings.NOTIFICATIONS_KEEP = 25
    user = make_user(username="bob")
    for delta in range(1, 31):
        leaderboard.add_points(user_id=user.pk, delta=delta)
    api.sign_in("bob")  # one more: 31, of which 25 kept
    first = api.get("/api/notifications/").json()
    assert first["results"][0]["notification"]["type"] == "session.created"
    assert len(first["results"]) == 20
    assert first["next"]
    rest = api.get(first["next"]).json()
    assert rest["next"] is None
    everything = first["results"] + rest["results"]
    assert len(everything) == 25
    assert [n["notification"]["delta"] for n in everything[1:]] == list(range(30, 6, -1))
    assert not any(n["read"] for n in everything)

    middle = everything[10]["id"]
    assert api.unsafe("post", "/api/notifications/read/", {"up_to": middle}).json() == {
        "read_up_to": middle
    }
    older = everything[15]["id"]  # never backwards
    assert api.unsafe("post", "/api/notifications/read/", {"up_to": older}).json() == {
        "read_up_to": middle
    }
    read = [n["read"] for n in api.get("/api/notifications/").json()["results"]]
    assert read == [False] * 10 + [True] * 10
    api.unsafe("post", "/api/notifications/read/", {})
    assert all(n["read"] for n in api.get("/api/notifications/").json()["results"])


@pytest.mark.parametrize("query", ["?before=x", "?before=1-2-3", "?before=9999999999999999-0"])
def test_a_bad_cursor_is_a_json_400(
    make_user: Callable[..., User], api: BrowserClient, query: str
) -> None:
    make_user(username="carol")
    api.sign_in("carol")
    response = api.get(f"/api/notifications/{query}")
    assert response.status_code == 400
    assert "before" in response.json()


def test_anonymous_gets_403(api: BrowserClient) -> None:
    assert api.get("/api/notifications/").status_code == 403
