"""Hand-written nasty inputs: each is a JSON 4xx that loses nothing, never a 500 or an
HTML page under /api/."""

from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from rest_framework.test import APIClient

from users.models import User

pytestmark = [pytest.mark.redis, pytest.mark.django_db]

DEEP = "[" * 100_000 + "]" * 100_000  # json.loads raises RecursionError, not ValueError


@pytest.mark.parametrize("path", ["/api/auth/login/", "/api/users/"])
def test_json_nested_too_deep_is_a_400(path: str) -> None:
    response = APIClient().post(path, DEEP, content_type="application/json")
    assert response.status_code == 400
    assert "nested too deeply" in response.json()["detail"]
    assert User.objects.count() == 0


def test_a_host_this_site_does_not_serve_is_a_json_400() -> None:
    response = Client().get("/api/users/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response["Content-Type"] == "application/json"
    assert "Host" in response.json()["detail"]


def test_a_form_past_the_body_limit_is_a_json_400() -> None:
    body = "username=" + "x" * 3_000_000
    response = APIClient().post(
        "/api/users/", body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert "too large" in response.json()["detail"]


def test_a_form_with_too_many_fields_is_a_json_400() -> None:
    body = "&".join(f"f{n}=1" for n in range(3_000))
    response = APIClient().post(
        "/api/users/", body, content_type="application/x-www-form-urlencoded"
    )
    assert response.status_code == 400
    assert "Too many fields" in response.json()["detail"]
    assert User.objects.count() == 0


def test_browsers_still_get_html_for_a_bad_host(make_user: Callable[..., User]) -> None:
    response = Client().get("/admin/", HTTP_HOST="evil.example")
    assert response.status_code == 400
    assert response["Content-Type"].startswith("text/html")


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (b'{"username": "\xff\xfe", "password": "x"}', "application/json"),  # invalid UTF-8
        (b'{"username": "a\\u0000b", "password": "x"}', "application/json"),  # a NUL
        (b"username=a%00b&password=x", "application/x-www-form-urlencoded"),
        (b"<user/>", "application/xml"),  # a type the API does not read
        (b"", "application/json"),
    ],
)
def test_bad_bytes_at_the_sign_in_are_a_json_4xx(body: bytes, content_type: str) -> None:
    response = APIClient().post("/api/auth/login/", body, content_type=content_type)
    assert 400 <= response.status_code < 500
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    "path",
    ["/api/users/99999999999999999999999/", "/api/users/-1/", "/api/users/1e9/",
     "/api/users/%00/", "/api/users/99999999999999999999999/rank/"],
)  # fmt: skip
def test_ids_no_row_can_have_are_a_json_404(path: str) -> None:
    response = APIClient().get(path)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"


@pytest.mark.parametrize(
    "registration",
    [
        {"username": "a\x00b", "email": "nul@example.com"},
        {"username": "ok", "email": "nul\x00@example.com"},
        {"username": "ok", "email": "ok@example.com", "full_name": "x\x00y"},
    ],
)
def test_a_nul_in_a_registration_is_a_400_and_creates_nothing(registration: dict) -> None:
    body = {"password": "correct-Horse-battery-9", **registration}
    response = APIClient().post("/api/users/", body, format="json")
    assert response.status_code == 400
    assert User.objects.count() == 0
