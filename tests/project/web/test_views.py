"""API root, health, schema, docs and the JSON error pages."""

from __future__ import annotations

import re
from collections.abc import Callable

import fakeredis
import pytest
from django.contrib.staticfiles import finders
from django.test import Client
from rest_framework.test import APIClient

from project.web.views import _check_redis

pytestmark = [pytest.mark.redis, pytest.mark.django_db]


def test_api_root_lists_the_endpoints(api: APIClient) -> None:
    response = api.get("/api/")
    assert response.status_code == 200
    assert response.json()["users"] == "http://testserver/api/users/"
    assert set(response.json()) >= {"csrf", "login", "logout", "me", "health", "schema", "docs"}


def test_api_root_is_browsable_html_in_a_browser(api: APIClient) -> None:
    response = api.get("/api/", HTTP_ACCEPT="text/html")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("text/html")
    assert b"/api/users/" in response.content


def test_health_is_ok_when_redis_and_database_answer(api: APIClient) -> None:
    response = api.get("/api/health/")
    assert response.status_code == 200
    assert {key: response.json()[key] for key in ("redis", "database")} == {
        "redis": "ok",
        "database": "ok",
    }


@pytest.mark.standalone
def test_health_warns_but_stays_200_when_redis_may_evict_what_the_project_keeps(
    api: APIClient, redis_config: Callable[..., None]
) -> None:
    redis_config(maxmemory=1 << 30, maxmemory_policy="allkeys-lru")
    response = api.get("/api/health/")
    assert response.status_code == 200
    assert any("allkeys-lru" in line for line in response.json()["warnings"])


@pytest.mark.usefixtures("redis_down")
def test_health_is_503_when_redis_is_down(api: APIClient) -> None:
    response = api.get("/api/health/")
    assert response.status_code == 503
    assert response["Retry-After"] == "5"
    assert response.json() == {"redis": "unavailable (ConnectionError)", "database": "ok"}


def test_health_check_reports_a_disconnected_server() -> None:
    server = fakeredis.FakeServer()
    client = fakeredis.FakeRedis(server=server)
    assert _check_redis(client)[0] == "ok"
    server.connected = False
    assert _check_redis(client) == ("unavailable (ConnectionError)", [])


def test_unknown_api_path_is_a_json_404(api: APIClient) -> None:
    response = api.get("/api/nope/")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


def test_unknown_page_outside_the_api_stays_html() -> None:
    response = Client().get("/nope/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")


def test_openapi_schema_describes_the_api(api: APIClient) -> None:
    response = api.get("/api/schema/", HTTP_ACCEPT="application/json")
    assert response.status_code == 200
    schema = response.json()
    assert schema["openapi"].startswith("3.")
    assert {"/api/users/", "/api/users/{id}/", "/api/auth/login/", "/api/health/"} <= set(
        schema["paths"]
    )


def test_docs_are_served_offline(api: APIClient) -> None:
    response = Client().get("/api/docs/")
    assert response.status_code == 200
    html = response.content.decode()
    # Nothing is fetched from another host (the CSRF token in the page is random text,
    # so look for external URLs, not for the letters "cdn").
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:)?//""", html)
    assert "jsdelivr" not in html
    assert "unpkg" not in html
    bundle = "drf_spectacular_sidecar/swagger-ui-dist/swagger-ui-bundle.js"
    assert f"/static/{bundle}" in html
    assert finders.find(bundle)


def test_admin_login_page_renders() -> None:
    response = Client().get("/admin/login/")
    assert response.status_code == 200
    assert b"csrfmiddlewaretoken" in response.content
