"""A user's sessions over HTTP: list, revoke, revoke all, password change, outages."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any, cast

import pytest
import redis
from django.contrib.sessions.backends.base import UpdateError
from django.test import Client, override_settings
from rest_framework.test import APIClient

from project.redis.local import LocalRedis
from sessions import keys, services
from sessions.backends.redis import SessionStore
from tests.clients import BrowserClient
from users.models import User

pytestmark = [pytest.mark.redis, pytest.mark.django_db]


@pytest.fixture
def bob(make_user: Callable[..., User]) -> User:
    return make_user(username="bob")


def device(agent: str) -> BrowserClient:
    client = BrowserClient(HTTP_USER_AGENT=agent)
    client.sign_in("bob")
    return client


def test_my_sessions_are_listed_with_opaque_ids(bob: User) -> None:
    laptop, phone = device("laptop"), device("phone")
    listed = laptop.get("/api/auth/sessions/").json()
    assert sorted(s["user_agent"] for s in listed) == ["laptop", "phone"]
    assert [s["current"] for s in listed if s["user_agent"] == "laptop"] == [True]
    keys_in_use = {laptop.cookies["sessionid"].value, phone.cookies["sessionid"].value}
    assert not {s["id"] for s in listed} & keys_in_use
    assert all(s["ip"] == "127.0.0.1" and s["last_seen"] >= s["created"] for s in listed)


def test_a_session_that_expired_is_not_listed_and_is_pruned(
    bob: User, redis_client: redis.Redis
) -> None:
    laptop, phone = device("laptop"), device("phone")
    redis_client.delete(keys.session(phone.cookies["sessionid"].value))  # its TTL ran out
    listed = laptop.get("/api/auth/sessions/").json()
    assert [s["user_agent"] for s in listed] == ["laptop"]
    assert redis_client.hlen(keys.index(bob.pk)) == 1


def test_revoking_one_session_logs_that_device_out(bob: User) -> None:
    laptop, phone = device("laptop"), device("phone")
    listed = laptop.get("/api/auth/sessions/").json()
    phone_id = next(s["id"] for s in listed if s["user_agent"] == "phone")
    assert laptop.unsafe("delete", f"/api/auth/sessions/{phone_id}/").status_code == 204
    assert phone.get("/api/auth/me/").status_code == 403
    assert laptop.get("/api/auth/me/").status_code == 200
    assert laptop.unsafe("delete", f"/api/auth/sessions/{phone_id}/").status_code == 404


def test_nobody_can_revoke_someone_elses_session(bob: User, make_user: Callable[..., User]) -> None:
    laptop = device("laptop")
    bob_id = laptop.get("/api/auth/sessions/").json()[0]["id"]
    make_user(username="mallory")
    mallory = BrowserClient()
    mallory.sign_in("mallory")
    assert mallory.unsafe("delete", f"/api/auth/sessions/{bob_id}/").status_code == 404
    assert laptop.get("/api/auth/me/").status_code == 200


def test_revoke_all_keeping_the_current_one(bob: User) -> None:
    laptop, phone, tablet = device("laptop"), device("phone"), device("tablet")
    response = laptop.unsafe("post", "/api/auth/sessions/revoke-all/", {"keep_current": True})
    assert response.json() == {"revoked": 2}
    assert [c.get("/api/auth/me/").status_code for c in (laptop, phone, tablet)] == [200, 403, 403]


def test_revoke_all_logs_out_everywhere(bob: User, redis_client: redis.Redis) -> None:
    laptop, phone = device("laptop"), device("phone")
    assert laptop.unsafe("post", "/api/auth/sessions/revoke-all/").json() == {"revoked": 2}
    assert [c.get("/api/auth/me/").status_code for c in (laptop, phone)] == [403, 403]
    assert not redis_client.exists(keys.index(bob.pk))


def test_a_request_in_flight_during_revoke_all_cannot_bring_its_session_back(
    bob: User, redis_client: redis.Redis
) -> None:
    laptop, phone = device("laptop"), device("phone")
    in_flight = SessionStore(phone.cookies["sessionid"].value)  # the phone's request...
    in_flight.get("_auth_user_id")  # ...has loaded its session
    laptop.unsafe("post", "/api/auth/sessions/revoke-all/", {"keep_current": True})
    in_flight["cart"] = [1]  # ...and now writes to it
    with pytest.raises(UpdateError):  # Django's middleware answers 400 SessionInterrupted
        in_flight.save()
    assert not redis_client.exists(keys.session(phone.cookies["sessionid"].value))
    assert [s["user_agent"] for s in laptop.get("/api/auth/sessions/").json()] == ["laptop"]


def test_a_password_change_keeps_this_session_and_ends_the_others(
    bob: User, django_capture_on_commit_callbacks: Any, password: str
) -> None:
    laptop, phone = device("laptop"), device("phone")
    with django_capture_on_commit_callbacks(execute=True):  # the new hash reaches the cache
        response = laptop.unsafe(
            "post",
            "/api/auth/password/",
            {"old_password": password, "new_password": "another-Horse-battery-8"},
        )
    assert response.status_code == 204
    assert laptop.get("/api/auth/me/").status_code == 200
    assert phone.get("/api/auth/me/").status_code == 403
    assert len(laptop.get("/api/auth/sessions/").json()) == 1


def test_a_wrong_old_password_is_a_400(bob: User) -> None:
    laptop = device("laptop")
    response = laptop.unsafe("post", "/api/auth/password/",
        {"old_password": "nope", "new_password": "another-Horse-battery-8"},
    )  # fmt: skip
    assert response.status_code == 400
    assert "old_password" in response.json()


def test_login_count_beyond_the_cap_revokes_the_oldest(
    bob: User, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(services, "MAX_SESSIONS_PER_USER", 2)
    first = device("first")
    device("second"), device("third")
    assert first.get("/api/auth/me/").status_code == 403
    agents = sorted(s["user_agent"] for s in device("fourth").get("/api/auth/sessions/").json())
    assert agents == ["fourth", "third"]


def test_last_seen_is_written_at_most_once_per_interval(
    bob: User, redis_client: redis.Redis, settings: Any
) -> None:
    laptop = device("laptop")
    key = keys.session(laptop.cookies["sessionid"].value)
    redis_client.hset(key, "s", 1_000_000)
    settings.SESSION_LAST_SEEN_INTERVAL = 60
    laptop.get("/api/auth/me/")
    seen = int(cast(bytes, redis_client.hget(key, "s")))  # set above: never None
    assert seen > 1_000_000  # older than the interval: recorded
    laptop.get("/api/auth/me/")
    assert int(cast(bytes, redis_client.hget(key, "s"))) == seen  # within the interval: no write


def test_a_forged_cookie_is_anonymous_and_adopts_nothing(redis_client: redis.Redis) -> None:
    client = APIClient()
    client.cookies["sessionid"] = "forged-key-chosen-by-an-attacker"
    assert client.get("/api/auth/me/").status_code == 403
    assert not redis_client.exists(keys.session("forged-key-chosen-by-an-attacker"))


def test_admin_revokes_all_of_a_users_sessions(bob: User, make_user: Callable[..., User]) -> None:
    laptop = device("laptop")
    admin = Client()
    admin.force_login(make_user(username="root", is_staff=True, is_superuser=True))
    page = admin.get(f"/admin/users/user/{bob.pk}/change/")
    assert b"1 (use the action" in page.content
    response = admin.post(
        "/admin/users/user/", {"action": "revoke_sessions", "_selected_action": [bob.pk]}
    )
    assert response.status_code == 302
    assert laptop.get("/api/auth/me/").status_code == 403


@pytest.fixture
def own_redis(tmp_path: Path) -> Iterator[LocalRedis]:
    """A persistent server of this test's own, to stop and restart with its data."""
    server = LocalRedis(tmp_path / "redis", persistent=True)
    server.ensure_running()
    location = {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": server.url,
            "OPTIONS": {"SOCKET_CONNECT_TIMEOUT": 0.25, "SOCKET_TIMEOUT": 0.25},
        }
    }
    with override_settings(CACHES=location):
        yield server
    server.stop()


def test_redis_stopped_mid_session_is_a_503_and_the_cookie_survives(
    bob: User, own_redis: LocalRedis
) -> None:
    laptop = device("laptop")
    cookie = laptop.cookies["sessionid"].value
    own_redis.stop()
    response = laptop.get("/api/auth/me/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert "sessionid" not in response.cookies  # neither deleted nor replaced
    own_redis.ensure_running()  # back, with its data
    assert laptop.cookies["sessionid"].value == cookie
    assert laptop.get("/api/auth/me/").status_code == 200


def test_redis_down_during_save_is_a_503_not_a_logout(
    bob: User, own_redis: LocalRedis, password: str
) -> None:
    csrf_client = BrowserClient()
    csrf_client.get("/api/auth/csrf/")
    own_redis.stop()
    response = csrf_client.post(
        "/api/auth/login/",
        {"username": "bob", "password": password},
        format="json",
        HTTP_X_CSRFTOKEN=csrf_client.cookies["csrftoken"].value,
    )
    assert response.status_code == 503


# --- The index outlives its longest session -------------------------------------------


def signed_in_session(user: User, *, expiry: int) -> SessionStore:
    """A session as login() leaves it, with its own expiry (``set_expiry``)."""
    store = SessionStore()
    store.update({"_auth_user_id": str(user.pk), "_auth_user_backend": "x", "_auth_user_hash": "h"})
    store.set_expiry(expiry)
    store.save()
    return store


def test_a_shorter_session_does_not_shorten_the_index(bob: User, redis_client: redis.Redis) -> None:
    month = 30 * 86400  # longer than the cookie age (two weeks): "remember me"
    long = signed_in_session(bob, expiry=month)
    signed_in_session(bob, expiry=60)  # signed in later, for a minute
    assert redis_client.ttl(keys.session(cast(str, long.session_key))) > month - 60
    assert redis_client.ttl(keys.index(str(bob.pk))) > month - 60


def test_a_session_renewed_on_every_request_keeps_its_index(
    bob: User, redis_client: redis.Redis, settings: Any
) -> None:
    """SESSION_SAVE_EVERY_REQUEST: each save renews the session's TTL, and the index's."""
    settings.SESSION_COOKIE_AGE = 100
    store = signed_in_session(bob, expiry=0)  # 0: the cookie age
    assert redis_client.ttl(keys.index(str(bob.pk))) <= 100
    settings.SESSION_COOKIE_AGE = 10_000
    renewed = SessionStore(store.session_key)
    renewed.load()
    renewed.save()  # unchanged data: the TTL-only save of every request
    assert redis_client.ttl(keys.session(cast(str, store.session_key))) > 9_000
    assert redis_client.ttl(keys.index(str(bob.pk))) > 9_000


def test_an_index_lost_to_eviction_comes_back_from_its_live_sessions(
    bob: User, redis_client: redis.Redis, settings: Any
) -> None:
    settings.SESSION_LAST_SEEN_INTERVAL = 0  # every request records last seen
    laptop, phone = device("laptop"), device("phone")
    redis_client.delete(keys.index(str(bob.pk)))  # evicted
    laptop.get("/api/auth/me/")
    phone.get("/api/auth/me/")
    assert sorted(s["user_agent"] for s in laptop.get("/api/auth/sessions/").json()) == [
        "laptop",
        "phone",
    ]
    revoked = laptop.unsafe("post", "/api/auth/sessions/revoke-all/", {"keep_current": True})
    assert revoked.json()["revoked"] == 1
    assert phone.get("/api/auth/me/").status_code == 403
