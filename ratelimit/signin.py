"""Sign-in protection: per address, and per account without locking its owner out.

- ``login`` (per client address): every sign-in attempt counts.
- ``login_account`` (per account tried): only *failed* attempts count (a success is
  forgiven: :func:`forgive`), and only from clients that have never signed in to that
  account. A client that has is *known* (a signed ``known_accounts`` cookie, set at each
  successful sign-in, OWASP's device-cookie approach): guesses from everywhere else cannot
  lock the owner out of their own browser, while an account under attack from unknown
  clients gets at most ``login_account`` failures per window (default 10 per 15 min).

Both fail closed: with Redis down, an unthrottled sign-in would be a password oracle.
The API's ``LoginView`` uses them as DRF throttles; a sign-in form that is a Django view
(the browsable API's) through :func:`protect`, the admin's through
:class:`AdminSignInMiddleware`: the same checks (:func:`guard`) either way.
"""

from __future__ import annotations

import functools
import math
from collections.abc import Callable, Mapping
from typing import Any

from django.conf import settings
from django.core import signing
from django.http import HttpRequest, HttpResponse, HttpResponseBase
from django.urls import reverse

from ratelimit import identity
from ratelimit.throttles import SlidingWindowThrottle, ThrottleUnavailable, give_back, ledger

COOKIE = "known_accounts"
SALT = "ratelimit.signin.known_accounts"
KEEP = 10  # accounts a client is known to, newest first
MAX_AGE = 365 * 24 * 3600


def username_tried(request: Any) -> str | None:
    """The username a sign-in POST names (a DRF request's data, or a Django form)."""
    if request.method != "POST":
        return None
    # A malformed API body raises ParseError here: a 400, after the address counted it.
    data = request.data if hasattr(request, "data") else request.POST
    username = data.get("username") if isinstance(data, Mapping) else None
    if not isinstance(username, str) or not username.strip():
        return None
    return username


def _known(request: HttpRequest) -> list[str]:
    raw = request.COOKIES.get(COOKIE)
    if not raw:
        return []
    try:
        accounts = signing.loads(raw, salt=SALT, max_age=MAX_AGE)
    except signing.BadSignature:
        return []
    return [a for a in accounts if isinstance(a, str)] if isinstance(accounts, list) else []


def knows(request: HttpRequest, username: str) -> bool:
    """Has this client signed in to ``username`` before (within a year)?"""
    return identity.text_ident("account", username) in _known(request)


def remember(request: HttpRequest, response: HttpResponseBase, username: str) -> None:
    """After a successful sign-in: this client is known to ``username`` from now on."""
    account = identity.text_ident("account", username)
    accounts = [account, *(a for a in _known(request) if a != account)][:KEEP]
    response.set_cookie(
        COOKIE, signing.dumps(accounts, salt=SALT), max_age=MAX_AGE, httponly=True,
        samesite="Lax", secure=settings.SESSION_COOKIE_SECURE,
    )  # fmt: skip


def forgive(request: Any) -> None:
    """A sign-in succeeded: it does not count against the account (only failures do)."""
    give_back(ledger(request).forgivable, why="forgive")


class LoginIPThrottle(SlidingWindowThrottle):
    """Sign-in attempts per client address (scope ``login``); only POSTs count."""

    scope = "login"
    fail_open = False

    def get_ident(self, request: Any) -> str | None:  # type: ignore[override]
        return identity.ip_ident(request) if request.method == "POST" else None


class LoginAccountThrottle(SlidingWindowThrottle):
    """Failed sign-ins per account tried, from clients new to it (scope ``login_account``)."""

    scope = "login_account"
    policy = "login-account"
    fail_open = False
    forgivable = True

    def get_ident(self, request: Any) -> str | None:  # type: ignore[override]
        username = username_tried(request)
        if username is None or knows(request, username):
            return None
        return identity.text_ident("account", username)


THROTTLES = (LoginIPThrottle, LoginAccountThrottle)


def guard(
    request: HttpRequest, respond: Callable[[HttpRequest], HttpResponseBase]
) -> HttpResponseBase:
    """A sign-in form's POST goes through both throttles before ``respond`` checks the
    password (429 or 503, plain text with ``Retry-After``); a success (a redirect, signed
    in) is forgiven and makes the client known."""
    if request.method != "POST":
        return respond(request)
    for throttle in (LoginIPThrottle(), LoginAccountThrottle()):
        try:
            admitted = throttle.allow_request(request, None)  # type: ignore[arg-type]
        except ThrottleUnavailable as exc:
            return HttpResponse(
                str(exc.detail), status=503, content_type="text/plain",
                headers={"Retry-After": str(ThrottleUnavailable.retry_after)},
            )  # fmt: skip
        if not admitted:
            wait = max(1, math.ceil(throttle.wait() or 1))
            return HttpResponse(
                f"Too many sign-in attempts. Retry in {wait} s.", status=429,
                content_type="text/plain", headers={"Retry-After": str(wait)},
            )  # fmt: skip
    response = respond(request)
    username = username_tried(request)
    if response.status_code == 302 and request.user.is_authenticated and username:
        forgive(request)
        remember(request, response, username)
    return response


View = Callable[..., HttpResponseBase]


def protect(view: View) -> View:
    """The sign-in protection for a Django view that signs in from a form."""

    @functools.wraps(view)
    def protected(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponseBase:
        return guard(request, lambda request: view(request, *args, **kwargs))

    return protected


class AdminSignInMiddleware:
    """The same protection for the admin's login form (``/admin/login/``), which is no
    view of ours to decorate."""

    def __init__(self, get_response: Any) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponseBase:
        if request.method != "POST" or request.path != reverse("admin:login"):
            return self.get_response(request)
        return guard(request, self.get_response)
