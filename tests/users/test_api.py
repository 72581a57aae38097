"""The users and auth API: the flows a client goes through and the bad input it may send."""

from __future__ import annotations

import threading
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from django.db import connection
from django.db.models.signals import pre_save

from tests.clients import BrowserClient
from users.models import User

pytestmark = [pytest.mark.redis, pytest.mark.django_db]

NEW_USER = {
    "username": "alice",
    "email": "alice@example.com",
    "password": "correct-Horse-battery-9",
    "full_name": "Alice Liddell",
}


# --- The whole journey ----------------------------------------------------------------


def test_register_login_me_update_logout(api: BrowserClient) -> None:
    created = api.post("/api/users/", NEW_USER, format="json")
    assert created.status_code == 201
    body = created.json()
    assert body["username"] == "alice"
    assert body["email"] == "alice@example.com"
    assert "password" not in body

    api.sign_in("alice")
    me = api.get("/api/auth/me/")
    assert me.json()["email"] == "alice@example.com"

    patched = api.unsafe("patch", f"/api/users/{body['id']}/", {"full_name": "Alice L."})
    assert patched.status_code == 200
    assert User.objects.get(pk=body["id"]).full_name == "Alice L."

    assert api.unsafe("post", "/api/auth/logout/").status_code == 204
    assert api.get("/api/auth/me/").status_code == 403


def test_login_cycles_the_session_key(api: BrowserClient, make_user: Callable[..., User]) -> None:
    make_user(username="bob")
    api.csrf()
    api.cookies["sessionid"] = "attacker-chosen-key"
    api.sign_in("bob")
    assert api.cookies["sessionid"].value != "attacker-chosen-key"


def test_login_requires_the_csrf_token(
    api: BrowserClient, make_user: Callable[..., User], password: str
) -> None:
    make_user(username="bob")
    response = api.post(
        "/api/auth/login/", {"username": "bob", "password": password}, format="json"
    )
    assert response.status_code == 403
    # Django's reason, then what to do, each one sentence (the reason brings its own period).
    assert response.json()["detail"].startswith("CSRF failed: CSRF cookie not set. Fetch ")


def test_logout_without_csrf_header_is_refused(
    api: BrowserClient, make_user: Callable[..., User]
) -> None:
    make_user(username="bob")
    api.sign_in("bob")
    assert api.post("/api/auth/logout/").status_code == 403
    assert api.get("/api/auth/me/").status_code == 200


@pytest.mark.parametrize("password", ["wrong-password", ""])
def test_bad_credentials_are_a_400(
    api: BrowserClient, make_user: Callable[..., User], password: str
) -> None:
    make_user(username="bob")
    response = api.post(
        "/api/auth/login/",
        {"username": "bob", "password": password},
        format="json",
        HTTP_X_CSRFTOKEN=api.csrf(),
    )
    assert response.status_code == 400
    assert response.json()


def test_inactive_user_cannot_sign_in(
    api: BrowserClient, make_user: Callable[..., User], password: str
) -> None:
    make_user(username="bob", is_active=False)
    response = api.post(
        "/api/auth/login/",
        {"username": "bob", "password": password},
        format="json",
        HTTP_X_CSRFTOKEN=api.csrf(),
    )
    assert response.status_code == 400


# --- Who may change whom --------------------------------------------------------------


def test_patch_of_another_user_is_403(api: BrowserClient, make_user: Callable[..., User]) -> None:
    make_user(username="bob")
    victim = make_user(username="carol", full_name="Carol")
    api.sign_in("bob")
    response = api.unsafe("patch", f"/api/users/{victim.pk}/", {"full_name": "pwned"})
    assert response.status_code == 403
    victim.refresh_from_db()
    assert victim.full_name == "Carol"


def test_anonymous_patch_is_403(api: BrowserClient, make_user: Callable[..., User]) -> None:
    user = make_user(full_name="Carol")
    response = api.patch(f"/api/users/{user.pk}/", {"full_name": "x"}, format="json")
    assert response.status_code == 403


def test_staff_may_change_and_delete_anyone(
    api: BrowserClient, make_user: Callable[..., User]
) -> None:
    make_user(username="staff", is_staff=True)
    user = make_user(username="carol")
    api.sign_in("staff")
    assert api.unsafe("patch", f"/api/users/{user.pk}/", {"full_name": "C"}).status_code == 200
    assert api.unsafe("delete", f"/api/users/{user.pk}/").status_code == 204
    assert not User.objects.filter(pk=user.pk).exists()


def test_deleting_yourself_ends_your_session(
    api: BrowserClient, make_user: Callable[..., User]
) -> None:
    user = make_user(username="bob")
    api.sign_in("bob")
    assert api.unsafe("delete", f"/api/users/{user.pk}/").status_code == 204
    assert not User.objects.filter(pk=user.pk).exists()
    assert api.get("/api/auth/me/").status_code == 403


def test_deleting_another_user_is_403(api: BrowserClient, make_user: Callable[..., User]) -> None:
    make_user(username="bob")
    other = make_user(username="carol")
    api.sign_in("bob")
    assert api.unsafe("delete", f"/api/users/{other.pk}/").status_code == 403
    assert User.objects.filter(pk=other.pk).exists()


# --- What others may see --------------------------------------------------------------


def test_email_is_visible_only_to_self_and_staff(
    api: BrowserClient, make_user: Callable[..., User]
) -> None:
    carol = make_user(username="carol")
    make_user(username="bob")
    make_user(username="staff", is_staff=True)
    path = f"/api/users/{carol.pk}/"

    assert "email" not in api.get(path).json()
    assert all("email" not in row for row in api.get("/api/users/").json()["results"])
    api.sign_in("bob")
    assert "email" not in api.get(path).json()

    for viewer in ("carol", "staff"):
        client = BrowserClient()
        client.sign_in(viewer)
        assert client.get(path).json()["email"] == carol.email


def test_list_is_paginated(api: BrowserClient, make_user: Callable[..., User]) -> None:
    for _ in range(25):
        make_user()
    first = api.get("/api/users/").json()
    assert first["count"] == 25
    assert len(first["results"]) == 20
    assert first["next"].endswith("/api/users/?page=2")
    assert len(api.get("/api/users/?page=2").json()["results"]) == 5
    assert len(api.get("/api/users/?page_size=5").json()["results"]) == 5
    assert len(api.get("/api/users/?page_size=1000").json()["results"]) == 25  # capped at 100


@pytest.mark.parametrize("query", ["page=99", "page=abc", "page=0"])
def test_a_page_out_of_range_is_a_json_404(
    api: BrowserClient, make_user: Callable[..., User], query: str
) -> None:
    make_user()
    response = api.get(f"/api/users/?{query}")
    assert response.status_code == 404
    assert "detail" in response.json()


# --- Bad input ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path", ["/api/users/abc/", "/api/users/999999/", "/api/users/99999999999999999999999/",
             "/api/users/-1/", "/api/users/%C2%B2/"],
)  # fmt: skip
def test_unknown_or_malformed_id_is_a_json_404(api: BrowserClient, path: str) -> None:
    response = api.get(path)
    assert response.status_code == 404
    assert response.json()["detail"]


def test_malformed_json_is_a_400(api: BrowserClient) -> None:
    response = api.post(
        "/api/users/", data='{"username": "alice",', content_type="application/json"
    )
    assert response.status_code == 400
    assert "JSON parse error" in response.json()["detail"]
    assert not User.objects.exists()


@pytest.mark.parametrize(
    ("change", "field"),
    [
        ({"username": None}, "username"),
        ({"username": ["alice"]}, "username"),
        ({"username": "has space!"}, "username"),
        ({"email": "not-an-email"}, "email"),
        ({"email": ""}, "email"),
        ({"full_name": {"first": "A"}}, "full_name"),
        ({"password": 12345678}, "password"),
        ({"password": "short"}, "password"),
        ({"password": "alice-liddell"}, "password"),  # too similar to the full name
        ({"password": "password123"}, "password"),  # too common
        ({"password": "40295817364"}, "password"),  # entirely numeric
    ],
)
def test_invalid_registration_is_a_400_naming_the_field(
    api: BrowserClient, change: dict[str, Any], field: str
) -> None:
    response = api.post("/api/users/", {**NEW_USER, **change}, format="json")
    assert response.status_code == 400
    assert field in response.json()
    assert not User.objects.exists()


@pytest.mark.parametrize("missing", ["username", "email", "password"])
def test_missing_field_is_a_400(api: BrowserClient, missing: str) -> None:
    data = {key: value for key, value in NEW_USER.items() if key != missing}
    response = api.post("/api/users/", data, format="json")
    assert response.status_code == 400
    assert missing in response.json()


@pytest.mark.parametrize(
    "duplicate",
    [
        {"username": "ALICE", "email": "other@example.com"},
        {"username": "al2", "email": "Alice@EXAMPLE.com"},
    ],
)
def test_duplicate_username_or_email_is_a_400(
    api: BrowserClient, make_user: Callable[..., User], duplicate: dict[str, str]
) -> None:
    make_user(username="alice", email="alice@example.com")
    response = api.post("/api/users/", {**NEW_USER, **duplicate}, format="json")
    assert response.status_code == 400
    field = "username" if duplicate["username"] == "ALICE" else "email"
    assert "already exists" in response.json()[field][0]
    assert User.objects.count() == 1


def in_another_connection(work: Callable[[], object]) -> None:
    """Run ``work`` in its own thread, hence its own database connection, and commit it."""

    def run() -> None:
        try:
            work()
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join()


@contextmanager
def rival_registers_first(**rival: str) -> Iterator[None]:
    """While the block saves "alice", another connection commits ``rival`` just before
    alice's INSERT: after every check of ours has passed."""

    def register(sender: type, instance: User, **kwargs: Any) -> None:
        if instance.username == "alice":
            pre_save.disconnect(register, sender=User)
            in_another_connection(lambda: User.objects.create_user(**rival))

    pre_save.connect(register, sender=User)
    try:
        yield
    finally:
        pre_save.disconnect(register, sender=User)


@pytest.mark.django_db(transaction=True)
def test_email_taken_between_validation_and_insert_is_a_400(api: BrowserClient) -> None:
    """A concurrent registration commits after our checks passed: 400, not 500."""
    with rival_registers_first(username="rival", email="ALICE@example.com"):
        response = api.post("/api/users/", NEW_USER, format="json")
    assert response.status_code == 400
    assert response.json() == {"email": ["A user with this email already exists."]}
    assert list(User.objects.values_list("username", flat=True)) == ["rival"]


@pytest.mark.django_db(transaction=True)
def test_email_taken_between_validation_and_update_leaves_the_row(
    api: BrowserClient, make_user: Callable[..., User]
) -> None:
    user = make_user(username="bob", email="bob@example.com")
    api.sign_in("bob")

    def rival_takes_the_email(sender: type, instance: User, **kwargs: Any) -> None:
        if instance.pk == user.pk:
            pre_save.disconnect(rival_takes_the_email, sender=User)
            in_another_connection(
                lambda: User.objects.create_user(username="rival", email="new@example.com")
            )

    pre_save.connect(rival_takes_the_email, sender=User)
    try:
        response = api.unsafe(
            "patch", f"/api/users/{user.pk}/", {"email": "new@example.com", "full_name": "B"}
        )
    finally:
        pre_save.disconnect(rival_takes_the_email, sender=User)
    assert response.status_code == 400
    assert "email" in response.json()
    user.refresh_from_db()
    assert (user.email, user.full_name) == ("bob@example.com", "")


def test_changing_email_to_a_taken_one_is_a_400(
    api: BrowserClient, make_user: Callable[..., User]
) -> None:
    user = make_user(username="bob")
    make_user(username="carol", email="carol@example.com")
    api.sign_in("bob")
    response = api.unsafe("patch", f"/api/users/{user.pk}/", {"email": "CAROL@example.com"})
    assert response.status_code == 400
    assert "email" in response.json()


def test_keeping_your_own_email_is_not_a_duplicate(
    api: BrowserClient, make_user: Callable[..., User]
) -> None:
    user = make_user(username="bob", email="bob@example.com")
    api.sign_in("bob")
    response = api.unsafe(
        "put", f"/api/users/{user.pk}/", {"username": "bob", "email": "bob@example.com"}
    )
    assert response.status_code == 200


@pytest.mark.parametrize(
    ("method", "path"),
    [("delete", "/api/users/"), ("get", "/api/auth/login/"), ("put", "/api/auth/me/"),
     ("post", "/api/health/")],
)  # fmt: skip
def test_wrong_method_is_a_json_405(
    api: BrowserClient, make_user: Callable[..., User], method: str, path: str
) -> None:
    make_user(username="bob")
    api.sign_in("bob")
    response = api.unsafe(method, path)
    assert response.status_code == 405
    assert "not allowed" in response.json()["detail"]


@pytest.mark.django_db(transaction=True)
def test_a_case_variant_username_taken_between_validation_and_insert_is_a_400(
    api: BrowserClient,
) -> None:
    """Only the database can settle a race of "alice" and "ALICE": 400, one user."""
    with rival_registers_first(username="ALICE", email="rival@example.com"):
        response = api.post("/api/users/", NEW_USER, format="json")
    assert response.status_code == 400
    assert response.json() == {"username": ["A user with that username already exists."]}
    assert list(User.objects.values_list("username", flat=True)) == ["ALICE"]


def fullwidth(text: str) -> str:
    """``alice`` in fullwidth letters (U+FF41...): another string, the same name."""
    return "".join(chr(ord(c) + 0xFEE0) for c in text)


@pytest.mark.parametrize("look_alike", [fullwidth("alice"), fullwidth("ALICE")])
def test_a_look_alike_username_is_the_same_name(
    api: BrowserClient, make_user: Callable[..., User], look_alike: str
) -> None:
    make_user(username="alice", email="alice@example.com")
    bob = make_user(username="bob")
    registered = api.post(
        "/api/users/", {**NEW_USER, "username": look_alike, "email": "other@example.com"},
        format="json",
    )  # fmt: skip
    assert registered.status_code == 400
    assert "username" in registered.json()  # not a message about the email
    api.sign_in("bob")
    patched = api.unsafe("patch", f"/api/users/{bob.pk}/", {"username": look_alike})
    assert patched.status_code == 400
    assert "username" in patched.json()
    assert User.objects.get(pk=bob.pk).username == "bob"


def test_a_password_too_long_to_sign_in_with_is_refused_at_registration(
    api: BrowserClient,
) -> None:
    response = api.post("/api/users/", {**NEW_USER, "password": "Aa1-" * 25_000}, format="json")
    assert response.status_code == 400
    assert "password" in response.json()
    assert User.objects.count() == 0
