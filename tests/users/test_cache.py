"""The user endpoints on the cache: headers, freshness after every kind of write, outages."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any, cast

import pytest
import redis
from django.contrib.auth.models import update_last_login
from django.core.management import call_command

from project.redis.local import LocalRedis
from tests.clients import BrowserClient
from tests.own_redis import SnapshotRedis
from users.models import User

pytestmark = [pytest.mark.redis, pytest.mark.django_db]


@pytest.fixture
def commits(django_capture_on_commit_callbacks: Any) -> Any:
    """Run on-commit work as a real commit would (the test itself runs in a transaction)."""
    return lambda: django_capture_on_commit_callbacks(execute=True)


def test_detail_is_a_miss_then_a_hit(api: BrowserClient, make_user: Callable[..., User]) -> None:
    user = make_user(full_name="Carol")
    first = api.get(f"/api/users/{user.pk}/")
    second = api.get(f"/api/users/{user.pk}/")
    assert (first["X-Cache"], second["X-Cache"]) == ("MISS", "HIT")
    assert {**first.json(), "profile_views": 0} == {**second.json(), "profile_views": 0}
    assert second.json()["full_name"] == "Carol"
    assert (first.json()["profile_views"], second.json()["profile_views"]) == (1, 2)


def test_a_hit_shows_email_only_to_self_and_staff(
    api: BrowserClient, make_user: Callable[..., User], commits: Any
) -> None:
    carol = make_user(username="carol")
    api.get(f"/api/users/{carol.pk}/")  # cached with every field
    anonymous = api.get(f"/api/users/{carol.pk}/")
    assert anonymous["X-Cache"] == "HIT"
    assert "email" not in anonymous.json()
    with commits():  # the sign-in saves last_login: written through on commit
        api.sign_in("carol")
    own = api.get(f"/api/users/{carol.pk}/")
    assert own["X-Cache"] == "HIT"
    assert own.json()["email"] == carol.email


def test_an_api_patch_is_visible_on_the_next_read(
    api: BrowserClient, make_user: Callable[..., User], commits: Any
) -> None:
    user = make_user(username="bob")
    api.sign_in("bob")
    api.get(f"/api/users/{user.pk}/")
    with commits():
        assert (
            api.unsafe("patch", f"/api/users/{user.pk}/", {"full_name": "New"}).status_code == 200
        )
    after = api.get(f"/api/users/{user.pk}/")
    assert (after["X-Cache"], after.json()["full_name"]) == ("HIT", "New")


@pytest.mark.parametrize("path", ["detail", "list"])
def test_shell_save_and_delete_are_visible_on_the_next_read(
    api: BrowserClient, make_user: Callable[..., User], commits: Any, path: str
) -> None:
    user = make_user(full_name="Before")
    url = f"/api/users/{user.pk}/" if path == "detail" else "/api/users/"

    def names() -> list[str]:
        body = api.get(url).json()
        return [row["full_name"] for row in body.get("results", [body])]

    assert names() == ["Before"]
    with commits():
        user.full_name = "After"
        user.save()
    assert names() == ["After"]
    with commits():
        user.delete()
    assert api.get(url).status_code == 404 if path == "detail" else names() == []


def test_admin_change_is_visible_on_the_next_read(
    api: BrowserClient,
    make_user: Callable[..., User],
    commits: Any,
    client: Any,
    no_inline_tags: dict[str, str],
) -> None:
    client.force_login(make_user(username="root", is_staff=True, is_superuser=True))
    user = make_user(username="carol", email="carol@example.com")
    api.get(f"/api/users/{user.pk}/")
    api.get("/api/users/")
    with commits():
        response = client.post(
            f"/admin/users/user/{user.pk}/change/",
            {"username": "carol", "email": "carol@example.com", "full_name": "Via Admin",
             "is_active": "on", "date_joined_0": "2026-01-01", "date_joined_1": "00:00:00",
             **no_inline_tags},
        )  # fmt: skip
    assert response.status_code == 302, response.content
    assert api.get(f"/api/users/{user.pk}/").json()["full_name"] == "Via Admin"
    assert "Via Admin" in [row["full_name"] for row in api.get("/api/users/").json()["results"]]


def test_list_pages_are_cached_per_page(api: BrowserClient, make_user: Callable[..., User]) -> None:
    for _ in range(3):
        make_user()
    assert api.get("/api/users/?page_size=2")["X-Cache"] == "MISS"
    assert api.get("/api/users/?page_size=2")["X-Cache"] == "HIT"
    second = api.get("/api/users/?page_size=2&page=2")
    assert second["X-Cache"] == "MISS"
    assert len(second.json()["results"]) == 1
    assert api.get("/api/users/?page=7").status_code == 404


@pytest.mark.usefixtures("redis_down")
def test_redis_down_serves_from_the_database(
    api: BrowserClient, make_user: Callable[..., User]
) -> None:
    user = make_user(full_name="Carol")
    detail = api.get(f"/api/users/{user.pk}/")
    assert (detail.status_code, detail["X-Cache"]) == (200, "BYPASS")
    assert detail.json()["full_name"] == "Carol"
    listing = api.get("/api/users/")
    assert (listing.status_code, listing["X-Cache"]) == (200, "BYPASS")


def test_a_signed_in_cached_read_runs_no_sql(
    api: BrowserClient, make_user: Callable[..., User], django_assert_num_queries: Any
) -> None:
    user = make_user(username="bob")
    api.sign_in("bob")
    api.get(f"/api/users/{user.pk}/")
    api.get("/api/auth/me/")
    with django_assert_num_queries(0):
        detail = api.get(f"/api/users/{user.pk}/")
        me = api.get("/api/auth/me/")
    assert detail["X-Cache"] == "HIT"
    assert detail.json()["email"] == user.email  # request.user is known: self sees email
    assert me.json()["username"] == "bob"


def test_a_password_change_ends_other_sessions(
    api: BrowserClient, make_user: Callable[..., User], commits: Any
) -> None:
    user = make_user(username="bob")
    api.sign_in("bob")
    assert api.get("/api/auth/me/").status_code == 200  # auth snapshot now cached
    with commits():
        user.set_password("another-Horse-battery-8")
        user.save()
    assert api.get("/api/auth/me/").status_code == 403


def test_a_deactivated_user_is_signed_out(
    api: BrowserClient, make_user: Callable[..., User], commits: Any
) -> None:
    user = make_user(username="bob")
    api.sign_in("bob")
    assert api.get("/api/auth/me/").status_code == 200
    with commits():
        user.is_active = False
        user.save()
    assert api.get("/api/auth/me/").status_code == 403


def test_a_sign_in_racing_a_deactivation_does_not_keep_the_user_in(
    api: BrowserClient, make_user: Callable[..., User], commits: Any
) -> None:
    """``update_last_login`` saves the object ``authenticate()`` loaded before the
    password check; an admin deactivating the user meanwhile must still win."""
    user = make_user(username="bob")
    api.sign_in("bob")
    loaded_before_the_check = User.objects.get(pk=user.pk)
    with commits():
        User.objects.filter(pk=user.pk).update(is_active=False)  # the admin, meanwhile
    with commits():
        update_last_login(User, loaded_before_the_check)  # the sign-in finishing
    assert api.get("/api/auth/me/").status_code == 403


def test_a_sign_in_racing_a_password_change_keeps_the_new_hash(
    api: BrowserClient, new_api: Callable[..., BrowserClient], make_user: Callable[..., User],
    commits: Any,
) -> None:  # fmt: skip
    user = make_user(username="bob")
    attacker = new_api()
    attacker.sign_in("bob")
    loaded_before_the_check = User.objects.get(pk=user.pk)
    with commits():  # the owner changes the password meanwhile
        owner_row = User.objects.get(pk=user.pk)
        owner_row.set_password("another-Horse-battery-8")
        owner_row.save()
    with commits():
        update_last_login(User, loaded_before_the_check)
    assert attacker.get("/api/auth/me/").status_code == 403
    api.sign_in("bob", "another-Horse-battery-8")
    assert api.get("/api/auth/me/").status_code == 200


@pytest.mark.parametrize("flag", ["is_active", "is_staff"])
def test_a_queryset_update_of_a_security_flag_applies_on_the_next_request(
    api: BrowserClient, make_user: Callable[..., User], commits: Any, flag: str
) -> None:
    user = make_user(username="bob", is_staff=True)
    api.sign_in("bob")
    assert api.get("/api/cache/stats/").status_code == 200  # staff, cached
    with commits():
        User.objects.filter(pk=user.pk).update(**{flag: False})
    assert api.get("/api/cache/stats/").status_code == 403


def test_redis_never_holds_the_password_hash_or_pickle(
    api: BrowserClient, make_user: Callable[..., User], redis_client: redis.Redis
) -> None:
    user = make_user(username="bob")
    api.sign_in("bob")
    api.get(f"/api/users/{user.pk}/")
    api.get("/api/users/")
    api.get("/api/auth/me/")
    values: list[bytes] = []  # no decode_responses: bytes
    for key in redis_client.scan_iter():
        kind = redis_client.type(key)
        if kind == b"hash":
            values += cast("list[bytes]", redis_client.hvals(key))
        elif kind == b"string":
            values.append(cast(bytes, redis_client.get(key)))  # the key was just scanned
    assert values
    assert not any(value.startswith(b"\x80") for value in values)  # pickle's opcode
    password_hash = User.objects.get(pk=user.pk).password.encode()
    assert not any(password_hash in value for value in values)


@pytest.mark.local_redis
def test_a_password_change_holds_when_redis_restarts_from_an_older_snapshot(
    api: BrowserClient, new_api: Callable[..., BrowserClient], make_user: Callable[..., User],
    commits: Any, password: str,
) -> None:  # fmt: skip
    """The snapshot holds the attacker's session and the old auth snapshot: both come
    back with the restart, and the session must still not work."""
    make_user(username="bob")
    attacker = new_api()
    attacker.sign_in("bob")
    assert attacker.get("/api/auth/me/").status_code == 200  # the auth snapshot is cached
    stolen = attacker.cookies["sessionid"].value
    server = SnapshotRedis(LocalRedis.from_environ().directory)  # the suite's own server
    dump = server.server.directory / "dump.rdb"
    try:
        server.snapshot()
        api.sign_in("bob")
        with commits():
            changed = api.unsafe(
                "post", "/api/auth/password/",
                {"old_password": password, "new_password": "another-Horse-battery-8"},
            )  # fmt: skip
        assert changed.status_code == 204
        assert attacker.get("/api/auth/me/").status_code == 403
        server.crash_and_restart()
        attacker.cookies["sessionid"] = stolen  # the attacker kept the cookie
        assert attacker.get("/api/auth/me/").status_code == 403
        assert api.get("/api/auth/me/").status_code in {200, 403}  # its session may be lost
    finally:
        dump.unlink(missing_ok=True)  # the suite's server keeps nothing


def test_loaddata_of_an_older_fixture_is_what_reads_see_and_it_is_cached_again(
    api: BrowserClient, make_user: Callable[..., User], commits: Any, tmp_path: Path
) -> None:
    """The fixture's row has an older version than the cached one: the cache must give
    way to the database, not refuse the older version for good."""
    user = make_user(username="bob", full_name="Old")
    fixture = tmp_path / "bob.json"
    call_command("dumpdata", "users.user", f"--pks={user.pk}", output=str(fixture), verbosity=0)
    with commits():
        user.full_name = "New"
        user.save()
    assert api.get(f"/api/users/{user.pk}/").json()["full_name"] == "New"
    assert api.get(f"/api/users/{user.pk}/")["X-Cache"] == "HIT"
    with commits():
        call_command("loaddata", str(fixture), verbosity=0)
    restored = api.get(f"/api/users/{user.pk}/")
    again = api.get(f"/api/users/{user.pk}/")
    assert (restored.json()["full_name"], restored["X-Cache"]) == ("Old", "MISS")
    assert (again.json()["full_name"], again["X-Cache"]) == ("Old", "HIT")


def test_every_endpoint_shows_a_user_with_the_same_numbers(
    api: BrowserClient, make_user: Callable[..., User], commits: Any
) -> None:
    """Me, the detail, the list, a PATCH and a sign-in: one representation, live counts."""
    user = make_user(username="bob")
    with commits():
        User.objects.filter(pk=user.pk).update(points=7)
    signed_in = api.sign_in("bob").json()
    for _ in range(3):
        api.get(f"/api/users/{user.pk}/")  # three profile views, not flushed
    counts = ("profile_views", "login_count", "points")

    def numbers(body: dict[str, Any]) -> tuple[int, ...]:
        return tuple(body[name] for name in counts)

    me = numbers(api.get("/api/auth/me/").json())
    listed = next(u for u in api.get("/api/users/").json()["results"] if u["id"] == user.pk)
    patched = numbers(api.unsafe("patch", f"/api/users/{user.pk}/", {"full_name": "B"}).json())
    detail = numbers(api.get(f"/api/users/{user.pk}/").json())  # counts itself: one more view
    assert numbers(signed_in) == (0, 1, 7)
    assert me == numbers(listed) == patched == (3, 1, 7)
    assert detail == (4, 1, 7)
