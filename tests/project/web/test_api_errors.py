"""JSON errors on every ``/api/`` path (404, 405, 500), in DEBUG and out of it, for API
clients and browsers; HTML pages everywhere else; the browsable API's own pages as they
are. Real requests through the test client, on this module's URLconf: the project's, plus
two plain Django views under ``/api/``."""

from __future__ import annotations

import logging
from typing import Any

import pytest
from asgiref.sync import async_to_sync
from django.http import HttpRequest, HttpResponse
from django.test import AsyncClient, Client, override_settings
from django.urls import path
from django.views.decorators.http import require_POST

from project import urls as project_urls
from project.web import views as web_views

pytestmark = [
    pytest.mark.redis,
    pytest.mark.django_db,
    pytest.mark.urls(__name__),
]

SECRET = "a-secret-only-the-traceback-holds"


def boom(request: HttpRequest) -> HttpResponse:
    raise RuntimeError(SECRET)


@require_POST
def post_only(request: HttpRequest) -> HttpResponse:
    return HttpResponse("done")


urlpatterns = [
    path("api/test/boom/", boom),
    path("api/test/post-only/", post_only),
    path("test/boom/", boom),
    *project_urls.urlpatterns,
]
handler400, handler404, handler500 = (
    project_urls.handler400, project_urls.handler404, project_urls.handler500,
)  # fmt: skip

ACCEPTS = {"an API client": "application/json", "a browser": "text/html", "curl": "*/*"}
both_debug = pytest.mark.parametrize("debug", [True, False], ids=["DEBUG", "production"])
every_client = pytest.mark.parametrize("accept", ACCEPTS.values(), ids=ACCEPTS.keys())


def client() -> Client:
    return Client(raise_request_exception=False)


@both_debug
@every_client
def test_an_unknown_api_path_is_a_json_404(debug: bool, accept: str) -> None:
    with override_settings(DEBUG=debug):
        response = client().get("/api/no/such/thing/", HTTP_ACCEPT=accept)
    assert response.status_code == 404
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Not found."}


@both_debug
def test_pages_outside_the_api_keep_their_html(debug: bool) -> None:
    with override_settings(DEBUG=debug):
        missing = client().get("/no/such/page/", HTTP_ACCEPT="text/html")
        failed = client().get("/test/boom/", HTTP_ACCEPT="text/html")
    assert (missing.status_code, failed.status_code) == (404, 500)
    assert missing["Content-Type"].startswith("text/html")
    assert failed["Content-Type"].startswith("text/html")


@both_debug
@every_client
def test_a_wrong_method_on_an_api_view_is_a_json_405(debug: bool, accept: str) -> None:
    with override_settings(DEBUG=debug):
        plain = client().get("/api/test/post-only/", HTTP_ACCEPT=accept)  # a Django view
    assert plain.status_code == 405
    assert plain.json() == {"detail": 'Method "GET" not allowed.'}
    assert plain["Allow"] == "POST"  # the headers stay


@both_debug
def test_a_wrong_method_on_a_drf_view_is_a_json_405(debug: bool) -> None:
    with override_settings(DEBUG=debug):
        response = client().delete("/api/health/", HTTP_ACCEPT="application/json")
        schema = client().post("/api/schema/")  # a view that answers YAML when it answers
    assert response.status_code == schema.status_code == 405
    assert response.json() == {"detail": 'Method "DELETE" not allowed.'}
    assert schema["Content-Type"] == "application/json"
    assert schema.json() == {"detail": 'Method "POST" not allowed.'}


@both_debug
@every_client
@pytest.mark.parametrize("where", ["/api/test/boom/", "/api/health/"], ids=["django", "drf"])
def test_a_view_that_raises_is_a_json_500_without_the_traceback(
    debug: bool, accept: str, where: str, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    def raising() -> str:
        raise RuntimeError(SECRET)

    monkeypatch.setattr(web_views, "_check_database", raising)  # /api/health/ raises
    with override_settings(DEBUG=debug), caplog.at_level(logging.ERROR, "django.request"):
        response = client().get(where, HTTP_ACCEPT=accept)
    assert response.status_code == 500
    assert response["Content-Type"] == "application/json"
    assert response.json() == {"detail": "Internal server error."}
    assert SECRET not in response.content.decode()
    assert "Traceback" not in response.content.decode()
    assert any(SECRET in str(record.exc_info) for record in caplog.records)  # logged, as ever


@override_settings(DEBUG=True)
def test_the_browsable_apis_own_error_pages_stay_html() -> None:
    response = client().get("/api/users/999999/", HTTP_ACCEPT="text/html")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert "No user with this id." in response.content.decode()


@override_settings(DEBUG=True)
def test_async_requests_get_json_errors_too() -> None:
    response = async_to_sync(AsyncClient().get)("/api/no/such/thing/", HTTP_ACCEPT="text/html")
    assert response.status_code == 404
    assert response.json() == {"detail": "Not found."}


@override_settings(DEBUG=True)
def test_a_missing_slash_under_the_api_still_redirects() -> None:
    response = client().get("/api/users")
    assert response.status_code == 301
    assert response["Location"] == "/api/users/"
