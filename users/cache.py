"""How users are cached: their API representation, their auth snapshot, the list pages.

Keys: ``{prefix}:cache:{user:<id>}:api:v1`` and ``...:auth:v1`` (one hash tag per user, so
each user's entries and leases share a Cluster slot); list pages under
``{users-list:<digest>}``, tagged ``users`` so that any user change drops them all.
"""

from __future__ import annotations

import hashlib
from typing import Any

from caching import keys
from caching.entries import Loader, Result
from caching.registry import Facet, register
from caching.services import cache_service
from users.models import User
from users.serializers import UserRecordSerializer

TTL = 300
LIST_TAG = "users"


def api_record(user: User) -> dict[str, Any]:
    """The full API representation (email included); views decide who sees what."""
    return dict(UserRecordSerializer(user).data)


def auth_record(user: User) -> dict[str, Any]:
    """What ``request.user`` needs: flags and the session HMAC, never the password hash."""
    return {
        "id": user.pk,
        "username": user.username,
        "email": user.email,
        "full_name": user.full_name,
        "first_name": user.first_name,
        "last_name": user.last_name,
        "is_active": user.is_active,
        "is_staff": user.is_staff,
        "is_superuser": user.is_superuser,
        "date_joined": user.date_joined.isoformat(),
        "last_login": user.last_login.isoformat() if user.last_login else None,
        "version": user.version,
        "auth_hash": user.get_session_auth_hash(),
        "auth_fallbacks": list(user.get_session_auth_fallback_hash()),
    }


cached_users = register(
    User,
    namespace="user",
    facets={"api": Facet(api_record), "auth": Facet(auth_record)},
    ttl=TTL,
    tags=[LIST_TAG],
)


def list_page(*, host: str, page: str, page_size: str, loader: Loader) -> Result:
    """One page of ``GET /api/users/``; the host is part of the key (the links are absolute)."""
    digest = hashlib.sha256(f"{host}|{page}|{page_size}".encode()).hexdigest()[:16]
    key = keys.entry("users-list", digest, "page", 1)
    return cache_service.get(key, loader, ttl=TTL, tags=[LIST_TAG])
