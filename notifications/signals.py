"""What notifies a user, from whichever path it happens on: a sign-in to the account, a
password change (API, admin, ``changepassword``, a shell), revoked sessions. Points are
notified where they are awarded (``users.leaderboard``)."""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_save
from django.http import HttpRequest
from redis import RedisError

from notifications import keys
from notifications.services import notify
from project.redis.client import get_client
from project.web.clientip import client_ip
from sessions.signals import sessions_revoked

logger = logging.getLogger("notifications")


def on_login(sender: type, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    details = {}
    if request is not None:
        details = {
            "ip": client_ip(request),
            "user_agent": request.META.get("HTTP_USER_AGENT", "")[:300],
        }
    notify(user.pk, "session.created", **details)


def on_password_saved(sender: type, instance: Any, created: bool, **kwargs: Any) -> None:
    # set_password() keeps the new raw password in _password until save() has run (the
    # password validators' "changed" hook): inside post_save it is still there.
    if not created and getattr(instance, "_password", None) is not None:
        notify(instance.pk, "password.changed", using=kwargs.get("using"))


def on_revoked(sender: Any, user_id: str, count: int, **kwargs: Any) -> None:
    notify(int(user_id), "sessions.revoked", count=count)


def on_logout(sender: type, request: HttpRequest | None, user: Any, **kwargs: Any) -> None:
    """Wake this user's live streams, which end if their session did (best effort: a stream
    also looks at its session on every heartbeat)."""
    if user is None:
        return
    try:
        get_client().publish(keys.wake_channel(), str(user.pk))
    except RedisError as exc:
        logger.warning("notifications: could not wake the streams of user %s: %s", user.pk, exc)


def connect() -> None:
    user_logged_in.connect(on_login, dispatch_uid="notifications.login")
    user_logged_out.connect(on_logout, dispatch_uid="notifications.logout")
    post_save.connect(on_password_saved, sender=settings.AUTH_USER_MODEL,
                      dispatch_uid="notifications.password")  # fmt: skip
    sessions_revoked.connect(on_revoked, dispatch_uid="notifications.revoked")
