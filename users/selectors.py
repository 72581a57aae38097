"""What the API shows of a user, assembled in one place for every endpoint that shows one.

A user's representation is their record (cached, ``users.cache``, or fresh from a row just
written), with the write-back counts not yet flushed (``users.counters``) added to the
stored ones, and private fields only for the user themself and staff. Redis down: the
stored counts are shown, and the view still answers.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from typing import Any

from django.http import HttpRequest
from redis import RedisError
from rest_framework.request import Request

from caching.entries import Status
from users import counters
from users.cache import cached_users
from users.counters import Pending
from users.models import User
from users.permissions import visible_to
from users.serializers import UserRecordSerializer

logger = logging.getLogger("users")

Viewer = Request | HttpRequest | None


@dataclass(frozen=True)
class CachedRecord:
    """A user's cached record; ``pk`` lets DRF's object-permission hook judge it."""

    pk: int
    record: dict[str, Any]
    status: Status


def cached_user(user_id: int) -> CachedRecord | None:
    """The user's record from the cache (read through on a miss); None if no such user."""
    result = cached_users.get(user_id, "api")
    if result.value is None:
        return None
    return CachedRecord(user_id, result.value, result.status)


def profile(user: CachedRecord, *, viewer: Viewer) -> dict[str, Any]:
    """``GET /api/users/{id}/``: count a profile view, show the live counts."""
    try:
        waiting = counters.count_view(user.pk)
    except RedisError as exc:
        logger.warning("profile view of %d not counted, Redis unavailable: %s", user.pk, exc)
        waiting = None
    return present(user.record, waiting, viewer=viewer)


def after_sign_in(user: User, *, viewer: Viewer) -> dict[str, Any]:
    """``POST /api/auth/login/``: count the sign-in, show the live counts (one round trip)."""
    try:
        waiting = counters.count_login(user.pk)
    except RedisError as exc:
        logger.warning("login of %d not counted, Redis unavailable: %s", user.pk, exc)
        waiting = None
    return present(UserRecordSerializer(user).data, waiting, viewer=viewer)


def account(user: User, *, viewer: Viewer) -> dict[str, Any]:
    """A row just written (an update), with the live counts."""
    return present(UserRecordSerializer(user).data, _pending(user.pk), viewer=viewer)


def cached_account(user_id: int, *, viewer: Viewer) -> dict[str, Any] | None:
    """A user's cached record with the live counts, without counting a view (``me``)."""
    user = cached_user(user_id)
    return None if user is None else present(user.record, _pending(user_id), viewer=viewer)


def page(records: list[dict[str, Any]], *, viewer: Viewer) -> list[dict[str, Any]]:
    """A page of cached records, with every user's live counts in one round trip."""
    try:
        waiting = counters.pending_many(record["id"] for record in records)
    except RedisError as exc:
        logger.warning("list shows stored counts, Redis unavailable: %s", exc)
        waiting = {}
    return [present(record, waiting.get(record["id"]), viewer=viewer) for record in records]


def present(record: dict[str, Any], waiting: Pending | None, *, viewer: Viewer) -> dict[str, Any]:
    """``record`` with the counts waiting to be flushed, as ``viewer`` may see it."""
    shown = dict(record)
    if waiting is not None:
        shown["profile_views"] += waiting.views
        shown["login_count"] += waiting.logins
    return visible_to(viewer, shown)


def _pending(user_id: int) -> Pending | None:
    try:
        return counters.pending(user_id)
    except RedisError as exc:
        logger.warning("counts of %d shown as stored, Redis unavailable: %s", user_id, exc)
        return None
