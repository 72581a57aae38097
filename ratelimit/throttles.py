"""DRF throttles on a Redis sorted set (a sliding-window log), one atomic round trip each.

Drop-in for DRF's settings::

    "DEFAULT_THROTTLE_CLASSES": ["ratelimit.throttles.AnonRateThrottle",
                                 "ratelimit.throttles.UserRateThrottle"],

with rates in ``settings.THROTTLE_RATES`` (``{"anon": "100/min", ...}``), read at each call
(DRF's own are bound at import, DRF#6030). Compared with DRF's ``SimpleRateThrottle``,
which reads and rewrites a pickled list and admitted 1000 of 1000 at 32 threads for a
limit of 100 (DRF#5181): the check-and-record is one Lua script on the server's clock, so
exactly N of M concurrent requests pass, across threads, processes and app servers.

A request refused by one throttle consumes no quota of the others on the same view: the
throttles of a request share a ledger on it; a refusal takes back what the others
recorded, and throttles that run after a refusal only look.
"""

from __future__ import annotations

import logging
import secrets
from collections import Counter
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from django.conf import settings
from django.http import HttpRequest
from redis import RedisError
from rest_framework.exceptions import APIException
from rest_framework.throttling import BaseThrottle

from project.metrics import THROTTLE
from project.redis.client import get_client
from ratelimit import identity, keys
from ratelimit.rates import Rate, parse_rate
from ratelimit.scripts import Verdict, sliding_window

if TYPE_CHECKING:  # DRF imports this module while rest_framework.views is half-loaded
    from rest_framework.request import Request
    from rest_framework.views import APIView

logger = logging.getLogger("ratelimit")

# Redis failures seen by this process, by scope: logged and counted.
failures: Counter[str] = Counter()


class ThrottleUnavailable(APIException):
    status_code = 503
    default_detail = "Rate limiting is temporarily unavailable. Please retry shortly."
    default_code = "throttle_unavailable"
    retry_after = 5


@dataclass(frozen=True)
class Applied:
    """One throttle's outcome for a request, for the RateLimit headers."""

    policy: str
    rate: Rate
    verdict: Verdict


@dataclass
class Ledger:
    """The throttles' shared record of one request (kept on the Django request)."""

    recorded: list[tuple[str, str]] = field(default_factory=list)  # (key, member)
    forgivable: list[tuple[str, str]] = field(default_factory=list)  # taken back on success
    refused: bool = False
    applied: list[Applied] = field(default_factory=list)


def give_back(recorded: list[tuple[str, str]], *, why: str) -> None:
    """Remove what was counted (``(key, member)`` pairs), in one round trip, and forget it.
    Redis failing leaves the counts: at worst a request too many is counted; logged."""
    if not recorded:
        return
    try:
        pipe = get_client().pipeline(transaction=False)
        for key, member in recorded:
            pipe.zrem(key, member)
        pipe.execute()
    except RedisError as exc:
        failures[why] += 1
        logger.warning("throttle: could not give back counted requests (%s): %s", why, exc)
    recorded.clear()


def ledger(request: Request | HttpRequest) -> Ledger:
    django_request: Any = getattr(request, "_request", request)
    if not hasattr(django_request, "ratelimit"):
        django_request.ratelimit = Ledger()
    return django_request.ratelimit


class SlidingWindowThrottle(BaseThrottle):
    """Base class: set ``scope`` and implement ``get_ident``."""

    scope: str = ""
    policy: str = ""  # the name in the RateLimit headers; the scope if empty
    # Redis failing: admit (True) or refuse with a 503 (False); None follows
    # THROTTLE_FAIL_OPEN. A throttle that guards secrets (sign-in) always refuses.
    fail_open: bool | None = None
    forgivable = False  # counts only requests that fail (``ratelimit.signin.forgive``)

    def get_scope(self, request: Request, view: APIView) -> str:
        return self.scope

    def get_ident(self, request: Request) -> str | None:  # type: ignore[override]
        """Whom to count; None exempts the request from this throttle."""
        raise NotImplementedError

    def get_rate(self, scope: str) -> Rate | None:
        rate = settings.THROTTLE_RATES.get(scope)
        return parse_rate(rate) if rate else None

    def allow_request(self, request: Request, view: APIView) -> bool:
        self._wait: float | None = None
        scope = self.get_scope(request, view)
        rate = self.get_rate(scope) if scope else None
        ident = self.get_ident(request) if rate else None
        if rate is None or ident is None:
            return True
        book = ledger(request)
        key = keys.window(scope, ident)
        member = secrets.token_hex(8)
        try:
            verdict = sliding_window(
                get_client(), key, limit=rate.limit, window=rate.window, member=member,
                record=not book.refused,
            )  # fmt: skip
        except RedisError as exc:
            return self._redis_failed(scope, exc)
        book.applied.append(Applied(self.policy or scope, rate, verdict))
        THROTTLE.labels(scope, "admitted" if verdict.admitted else "refused").inc()
        if not verdict.admitted:
            self._wait = verdict.reset
            if not book.refused:
                book.refused = True
                self._take_back(book)
            return False
        if not book.refused:
            book.recorded.append((key, member))
            if self.forgivable:
                book.forgivable.append((key, member))
        return True

    def wait(self) -> float | None:
        return self._wait

    def _take_back(self, book: Ledger) -> None:
        """The request is refused: what the other throttles recorded for it is returned."""
        give_back(book.recorded, why="take_back")

    def _redis_failed(self, scope: str, exc: RedisError) -> bool:
        failures[scope] += 1
        if settings.THROTTLE_FAIL_OPEN if self.fail_open is None else self.fail_open:
            THROTTLE.labels(scope, "failed_open").inc()
            logger.warning("throttle %s: Redis unavailable, admitting (fail open): %s", scope, exc)
            return True
        THROTTLE.labels(scope, "failed_closed").inc()
        logger.warning("throttle %s: Redis unavailable, refusing with 503: %s", scope, exc)
        raise ThrottleUnavailable from exc


class AnonRateThrottle(SlidingWindowThrottle):
    """Anonymous requests, per client IP (IPv6 per /64)."""

    scope = "anon"

    def get_ident(self, request: Request) -> str | None:  # type: ignore[override]
        if request.user and request.user.is_authenticated:
            return None
        return identity.ip_ident(request)


def user_or_ip(request: Request) -> str:
    if request.user and request.user.is_authenticated:
        return identity.user_ident(request.user.pk)
    return identity.ip_ident(request)


class UserRateThrottle(SlidingWindowThrottle):
    """Signed-in requests, per user. Anonymous ones are AnonRateThrottle's: unlike DRF's
    class of this name, this one does not count them a second time (one round trip per
    request, not two)."""

    scope = "user"

    def get_ident(self, request: Request) -> str | None:  # type: ignore[override]
        if request.user and request.user.is_authenticated:
            return identity.user_ident(request.user.pk)
        return None


class ScopedRateThrottle(SlidingWindowThrottle):
    """The view's ``throttle_scope``, per user or IP; views without one are not limited."""

    def get_scope(self, request: Request, view: APIView) -> str:
        return getattr(view, "throttle_scope", "")

    def get_ident(self, request: Request) -> str | None:  # type: ignore[override]
        return user_or_ip(request)


class RegisterThrottle(SlidingWindowThrottle):
    """Registrations per client address (scope ``register``): whether an email or a
    username is taken cannot be harvested at speed."""

    scope = "register"

    def get_ident(self, request: Request) -> str | None:  # type: ignore[override]
        return identity.ip_ident(request) if request.method == "POST" else None
