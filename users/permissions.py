from __future__ import annotations

from typing import Any, cast

from django.http import HttpRequest
from rest_framework import permissions
from rest_framework.request import Request
from rest_framework.views import APIView

from users.models import User

PRIVATE_FIELDS = ("email",)


def is_self_or_staff(request: Request | HttpRequest | None, user_pk: Any) -> bool:
    """True when the request comes from the user ``user_pk`` themself or from staff."""
    viewer = getattr(request, "user", None)
    return bool(viewer and viewer.is_authenticated and (viewer.pk == user_pk or viewer.is_staff))


def visible_to(viewer: Request | HttpRequest | None, record: dict[str, Any]) -> dict[str, Any]:
    """What ``viewer`` may see of a user ``record``: private fields for self and staff only.

    The one place this rule lives: it applies to fresh serializations and cached records.
    """
    if is_self_or_staff(viewer, record.get("id")):
        return record
    return {key: value for key, value in record.items() if key not in PRIVATE_FIELDS}


def signed_in(request: Request) -> User:
    """``request.user`` in a view whose permission classes refuse anonymous requests: a
    User (the cache's CachedUser snapshot, or the row), never AnonymousUser."""
    return cast(User, request.user)


class IsSelfOrStaffOrReadOnly(permissions.BasePermission):
    """Anyone may read and register; only the user themself or staff may change a user."""

    def has_permission(self, request: Request, view: APIView) -> bool:
        if request.method in permissions.SAFE_METHODS or getattr(view, "action", None) == "create":
            return True
        return bool(request.user and request.user.is_authenticated)

    def has_object_permission(self, request: Request, view: APIView, obj: Any) -> bool:
        return request.method in permissions.SAFE_METHODS or is_self_or_staff(request, obj.pk)
