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
