"""Signing in and out of the browsable API with the test client: the navbar's links, the
sign-in form at ``/api-auth/login/`` and the protections it shares with the API's sign-in
(throttles per address and per account, known clients, fail closed, the session index)."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from tests.clients import PASSWORD, BrowserClient
from tests.conftest import Outage
from users.models import User

pytestmark = [pytest.mark.redis, pytest.mark.django_db]

TOKEN = re.compile(r'name="csrfmiddlewaretoken" value="([^"]+)"')


def browser(address: str = "192.0.2.10") -> Client:
    """A person's browser: cookies kept, CSRF enforced, HTML asked for."""
    return Client(enforce_csrf_checks=True, REMOTE_ADDR=address, HTTP_ACCEPT="text/html")


def token(page: Any) -> str:
    found = TOKEN.search(page.content.decode())
    assert found, page.content
    return found.group(1)


def sign_in(client: Client, username: str, password: str = PASSWORD, *, next: str = "/api/") -> Any:
    page = client.get("/api-auth/login/", {"next": next})
    form = {"username": username, "password": password, "next": next}
    return client.post("/api-auth/login/", {**form, "csrfmiddlewaretoken": token(page)})


@pytest.fixture
def alice(make_user: Callable[..., User]) -> User:
    return make_user(username="alice", email="alice@example.com")


def test_the_navbar_offers_sign_in_back_to_the_page() -> None:
    page = browser().get("/api/users/?page=1")
    assert page.status_code == 200
    assert (
        'href="/api-auth/login/?next=/api/users/%3Fpage%3D1">Sign in</a>' in page.content.decode()
    )
    assert "Sign out" not in page.content.decode()


def test_the_api_roots_login_link_opens_the_sign_in_form_in_a_browser() -> None:
    opened = browser().get("/api/auth/login/")
    assert opened.status_code == 302
    assert opened["Location"] == "/api-auth/login/?next=%2Fapi%2F"
    for_clients = BrowserClient().get("/api/auth/login/")  # JSON: as before
    assert for_clients.status_code == 405
    assert for_clients["Allow"] == "POST, OPTIONS"
    assert for_clients.json() == {"detail": 'Method "GET" not allowed.'}


def test_the_sign_in_page_is_a_form_on_get() -> None:
    page = browser().get("/api-auth/login/", {"next": "/api/users/"})
    assert page.status_code == 200
    html = page.content.decode()
    assert '<form action="/api-auth/login/"' in html
    assert 'name="username"' in html
    assert 'type="password" name="password"' in html
    assert '<input type="hidden" name="next" value="/api/users/" />' in html
    assert token(page)


def test_signing_in_through_the_form_lands_on_next_signed_in(alice: User) -> None:
    client = browser()
    signed_in = sign_in(client, "alice", next="/api/users/")
    assert signed_in.status_code == 302
    assert signed_in["Location"] == "/api/users/"
    assert "known_accounts" in signed_in.cookies  # this browser is known to alice now
    html = client.get("/api/users/").content.decode()
    assert "Signed in as <strong>alice</strong>" in html
    assert 'action="/api-auth/logout/?next=/api/users/"' in html

    me = client.get("/api/auth/me/", HTTP_ACCEPT="application/json").json()
    assert me["username"] == "alice"
    assert me["login_count"] == 1  # counted like an API sign-in
    sessions = client.get("/api/auth/sessions/", HTTP_ACCEPT="application/json").json()
    assert [s["current"] for s in sessions] == [True]  # indexed like any sign-in


def test_without_next_the_sign_in_lands_on_the_api_root(alice: User) -> None:
    client = browser()
    page = client.get("/api-auth/login/")
    form = {"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": token(page)}
    assert client.post("/api-auth/login/", form)["Location"] == "/api/"


def test_a_next_on_another_site_is_not_followed(alice: User) -> None:
    assert sign_in(browser(), "alice", next="https://evil.example/")["Location"] == "/api/"


def test_a_wrong_password_shows_the_form_again(alice: User) -> None:
    client = browser()
    page = sign_in(client, "alice", "wrong-password")
    assert page.status_code == 200
    assert "Please enter a correct username and password" in page.content.decode()
    assert client.get("/api/auth/me/", HTTP_ACCEPT="application/json").status_code == 403


def test_the_sign_in_form_needs_its_csrf_token(alice: User) -> None:
    refused = browser().post("/api-auth/login/", {"username": "alice", "password": PASSWORD})
    assert refused.status_code == 403
    assert refused["Content-Type"].startswith("text/html")  # a page, outside /api/


def test_the_sign_in_form_is_throttled_per_address(alice: User, settings: Any) -> None:
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "login": "2/min"}
    client = browser()
    assert [sign_in(client, "alice", "guess").status_code for _ in range(2)] == [200, 200]
    refused = sign_in(client, "alice")  # even the right password, from this address
    assert refused.status_code == 429
    assert int(refused["Retry-After"]) >= 1
    assert "Too many sign-in attempts" in refused.content.decode()
    assert sign_in(browser("192.0.2.11"), "alice").status_code == 302  # another address


def test_form_failures_count_against_the_account_as_the_apis_do(alice: User, settings: Any) -> None:
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "login_account": "3/min"}
    guesses = [sign_in(browser(f"198.51.100.{n}"), "alice", "guess") for n in range(3)]
    assert [guess.status_code for guess in guesses] == [200, 200, 200]
    assert sign_in(browser("198.51.100.50"), "alice").status_code == 429  # a new client
    api = BrowserClient(REMOTE_ADDR="198.51.100.51")  # one budget, whichever sign-in
    response = api.post("/api/auth/login/", {"username": "alice", "password": PASSWORD},
                        format="json", HTTP_X_CSRFTOKEN=api.csrf())  # fmt: skip
    assert response.status_code == 429


def test_a_browser_that_signed_in_is_known_and_not_locked_out(alice: User, settings: Any) -> None:
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "login_account": "3/min"}
    owner = browser("203.0.113.1")
    assert sign_in(owner, "alice").status_code == 302  # forgiven, and known from now on
    for n in range(10, 14):  # guesses from everywhere else
        sign_in(browser(f"203.0.113.{n}"), "alice", "guess")
    assert sign_in(browser("203.0.113.99"), "alice").status_code == 429
    assert sign_in(owner, "alice").status_code == 302


def test_the_sign_in_form_fails_closed_when_redis_is_down(alice: User, redis_down: Outage) -> None:
    redis_down.end()
    client = browser()
    page = client.get("/api-auth/login/")
    redis_down.begin()
    form = {"username": "alice", "password": PASSWORD, "csrfmiddlewaretoken": token(page)}
    refused = client.post("/api-auth/login/", form)
    assert refused.status_code == 503
    assert refused["Retry-After"] == "5"


def test_signing_out_from_the_navbar(alice: User) -> None:
    client = browser()
    sign_in(client, "alice")
    page = client.get("/api/users/")
    signed_out = client.post(
        "/api-auth/logout/?next=/api/users/", {"csrfmiddlewaretoken": token(page)}
    )
    assert signed_out.status_code == 302
    assert signed_out["Location"] == "/api/users/"
    assert client.get("/api/auth/me/", HTTP_ACCEPT="application/json").status_code == 403
    assert ">Sign in</a>" in client.get("/api/users/").content.decode()
    assert browser().get("/api-auth/logout/").status_code == 405  # never on a GET


def test_the_sign_in_page_keeps_django_s_protections(alice: User) -> None:
    page = browser().get("/api-auth/login/")
    assert "no-cache" in page["Cache-Control"]  # never_cache
    assert page["X-Frame-Options"] == "DENY"
