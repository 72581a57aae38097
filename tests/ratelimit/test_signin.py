"""Sign-in protection: per address, and per account without locking its owner out; the
admin's login form gets the same; registrations are limited per address."""

from __future__ import annotations

import json
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from rest_framework.test import APIClient

from tests.clients import PASSWORD
from users.models import User

pytestmark = [pytest.mark.redis, pytest.mark.django_db]

RATES = {"anon": "1000/min", "user": "1000/min", "login": "1000/min",
         "login_account": "3/min", "register": "2/min"}  # fmt: skip


@pytest.fixture(autouse=True)
def rates(settings: Any) -> None:
    settings.THROTTLE_RATES = RATES


def sign_in(client: Any, username: str, password: str) -> int:
    response = client.post("/api/auth/login/", {"username": username, "password": password},
                           format="json")  # fmt: skip
    return int(response.status_code)


def from_address(n: int) -> APIClient:
    return APIClient(REMOTE_ADDR=f"198.51.100.{n}")


def test_failures_from_many_addresses_are_limited_per_account(
    make_user: Callable[..., User],
) -> None:
    make_user(username="bob")
    make_user(username="carol")
    guesses = [sign_in(from_address(n), "Bob", "guess") for n in range(3)]
    assert guesses == [400, 400, 400]
    assert sign_in(from_address(50), "bob", PASSWORD) == 429  # a new client, even right
    assert sign_in(from_address(51), "carol", PASSWORD) == 200  # other accounts: untouched


def test_a_client_that_signed_in_to_the_account_before_keeps_getting_in(
    make_user: Callable[..., User],
) -> None:
    make_user(username="bob")
    owner = from_address(1)
    assert sign_in(owner, "bob", PASSWORD) == 200  # the owner's browser is now known
    owner.post("/api/auth/logout/")
    for n in range(10, 16):  # an attacker, from everywhere else
        sign_in(from_address(n), "bob", "guess")
    assert sign_in(from_address(99), "bob", PASSWORD) == 429
    assert sign_in(owner, "bob", PASSWORD) == 200


def test_a_forged_known_accounts_cookie_is_ignored(make_user: Callable[..., User]) -> None:
    make_user(username="bob")
    for n in range(3):
        sign_in(from_address(n), "bob", "guess")
    forger = from_address(7)
    forger.cookies["known_accounts"] = json.dumps(["account-anything"])
    assert sign_in(forger, "bob", PASSWORD) == 429


def test_successful_sign_ins_do_not_count_against_the_account(
    make_user: Callable[..., User],
) -> None:
    make_user(username="bob")
    assert [sign_in(from_address(n), "bob", PASSWORD) for n in range(6)] == [200] * 6
    assert sign_in(from_address(60), "bob", "guess") == 400  # the budget is all there


def test_the_admin_login_has_the_same_protection(make_user: Callable[..., User]) -> None:
    make_user(username="root", is_staff=True, is_superuser=True)
    form = {"username": "root", "password": "guess", "next": "/admin/"}
    pages = [Client(REMOTE_ADDR=f"203.0.113.{n}").post("/admin/login/", form) for n in range(4)]
    assert [page.status_code for page in pages] == [200, 200, 200, 429]
    assert int(pages[-1]["Retry-After"]) >= 1
    owner = Client(REMOTE_ADDR="203.0.113.200")
    assert owner.post("/admin/login/", {**form, "password": PASSWORD}).status_code == 429


def test_the_admin_login_makes_its_client_known(make_user: Callable[..., User]) -> None:
    make_user(username="root", is_staff=True, is_superuser=True)
    owner = Client(REMOTE_ADDR="203.0.113.1")
    signed_in = owner.post("/admin/login/", {"username": "root", "password": PASSWORD})
    assert signed_in.status_code == 302
    assert "known_accounts" in signed_in.cookies
    for n in range(10, 14):
        Client(REMOTE_ADDR=f"203.0.113.{n}").post(
            "/admin/login/", {"username": "root", "password": "guess"}
        )
    known = owner.cookies["known_accounts"].value
    owner.logout()  # the test client drops every cookie here; a browser keeps this one
    owner.cookies["known_accounts"] = known
    again = owner.post("/admin/login/", {"username": "root", "password": PASSWORD})
    assert again.status_code == 302


def test_registrations_are_limited_per_address() -> None:
    client = from_address(5)
    codes = [
        client.post("/api/users/", {"username": f"new{n}", "email": f"new{n}@example.com",
                                    "password": "correct-Horse-battery-9"}, format="json")
        .status_code
        for n in range(3)
    ]  # fmt: skip
    assert codes == [201, 201, 429]
    assert User.objects.count() == 2


@pytest.mark.django_db(transaction=False)
def test_throttle_rates_merge_over_the_defaults(manage: Any) -> None:
    run = manage(
        "shell", "-c", "from django.conf import settings; print(settings.THROTTLE_RATES)",
        THROTTLE_RATES="anon=7/min",
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    assert "'anon': '7/min'" in run.stdout
    assert "'login': '5/min'" in run.stdout
    assert "'login_account': '10/15m'" in run.stdout
