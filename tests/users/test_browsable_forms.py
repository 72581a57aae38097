"""The browsable API's edit forms on a user's page: prefilled with the current values, shown
only to whoever may change the user, and what they send (PUT or PATCH, as a form) saves
what was changed. API clients get the same JSON as before."""

from __future__ import annotations

import json
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test.client import BOUNDARY, MULTIPART_CONTENT, encode_multipart

from tests.clients import BrowserClient
from users.models import User

pytestmark = [pytest.mark.redis, pytest.mark.django_db]

INPUT = re.compile(r'<input name="(\w+)" class="form-control" type="\w+"\s+value="([^"]*)"')
RAW = re.compile(
    r'id="put-generic-content-form">.*?<textarea name="_content"[^>]*>(.*?)</textarea>', re.S
)


@pytest.fixture
def alice(make_user: Callable[..., User]) -> User:
    return make_user(username="alice", email="alice@example.com", full_name="Alice Liddell")


HTML = "text/html; q=1.0, */*"  # what a browser, and DRF's ajax-form.js, ask for


def signed_in(username: str) -> BrowserClient:
    client = BrowserClient()
    client.sign_in(username)
    return client


def page_of(client: BrowserClient, path: str) -> Any:
    return client.get(path, HTTP_ACCEPT=HTML)


def html_form(page: Any) -> dict[str, str]:
    """The fields of the page's HTML edit form and their values."""
    html = page.content.decode()
    start = html.find('id="put-object-form"')
    assert start != -1, "no edit form on the page"
    form = html[start : html.index("</form>", start)]
    return dict(INPUT.findall(form))


def send_form(client: BrowserClient, method: str, path: str, fields: dict[str, str]) -> Any:
    """What DRF's ajax-form.js sends: the form as multipart, the CSRF header, HTML asked."""
    return client.generic(
        method, path, encode_multipart(BOUNDARY, fields).decode(), content_type=MULTIPART_CONTENT,
        HTTP_X_CSRFTOKEN=client.cookies["csrftoken"].value, HTTP_ACCEPT=HTML,
    )  # fmt: skip


def test_my_edit_form_is_prefilled_with_my_values(alice: User) -> None:
    page = page_of(signed_in("alice"), f"/api/users/{alice.pk}/")
    assert page.status_code == 200
    assert html_form(page) == {
        "username": "alice", "email": "alice@example.com", "full_name": "Alice Liddell",
    }  # fmt: skip
    raw = RAW.search(page.content.decode())
    assert raw, "no raw data form"
    shown = json.loads(raw.group(1).replace("&quot;", '"'))
    assert {key: shown[key] for key in ("id", "username", "email", "full_name")} == {
        "id": alice.pk, "username": "alice", "email": "alice@example.com",
        "full_name": "Alice Liddell",
    }  # fmt: skip
    assert 'data-target="#deleteModal"' in page.content.decode()


def test_the_edit_forms_are_offered_only_to_who_may_edit(
    alice: User, make_user: Callable[..., User]
) -> None:
    make_user(username="mallory")
    for client in (signed_in("mallory"), BrowserClient()):
        html = page_of(client, f"/api/users/{alice.pk}/").content.decode()
        assert 'id="put-object-form"' not in html
        assert "put-generic-content-form" not in html
        assert 'data-target="#deleteModal"' not in html
        assert "alice@example.com" not in html  # nor her email


def test_staff_get_the_prefilled_form_of_another_user(
    alice: User, make_user: Callable[..., User]
) -> None:
    make_user(username="root", is_staff=True)
    page = page_of(signed_in("root"), f"/api/users/{alice.pk}/")
    assert html_form(page)["email"] == "alice@example.com"


@pytest.mark.parametrize("method", ["put", "patch"])
def test_the_html_form_saves_the_one_field_changed(alice: User, method: str) -> None:
    client = signed_in("alice")
    path = f"/api/users/{alice.pk}/"
    fields = html_form(page_of(client, path))  # as the person left them, but one
    saved = send_form(client, method, path, {**fields, "full_name": "Alice Pleasance"})
    assert saved.status_code == 200, saved.content
    assert html_form(saved)["full_name"] == "Alice Pleasance"  # the page shows it, prefilled
    later = client.get(path, HTTP_ACCEPT="application/json").json()
    assert (later["username"], later["email"], later["full_name"]) == (
        "alice", "alice@example.com", "Alice Pleasance",
    )  # fmt: skip


def test_a_bad_value_from_the_html_form_is_shown_in_the_form(alice: User) -> None:
    client = signed_in("alice")
    path = f"/api/users/{alice.pk}/"
    fields = html_form(page_of(client, path))
    refused = send_form(client, "put", path, {**fields, "email": "not-an-email"})
    assert refused.status_code == 400
    assert html_form(refused)["email"] == "not-an-email"  # what they typed, with the error
    assert "Enter a valid email address." in refused.content.decode()
    assert User.objects.get(pk=alice.pk).email == "alice@example.com"


def test_json_clients_get_the_detail_as_before(alice: User) -> None:
    client = BrowserClient()
    client.sign_in("alice")
    response = client.get(f"/api/users/{alice.pk}/")
    assert response["Content-Type"] == "application/json"
    assert response["X-Cache"] in {"HIT", "MISS"}
    assert set(response.json()) == {
        "id", "username", "email", "full_name", "date_joined", "profile_views",
        "login_count", "points",
    }  # fmt: skip
    patched = client.unsafe("patch", f"/api/users/{alice.pk}/", {"full_name": "A. L."})
    assert patched.json()["full_name"] == "A. L."
