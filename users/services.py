"""User business logic: plain functions with keyword-only arguments; views stay thin."""

from __future__ import annotations

from typing import Any

from django.db import IntegrityError, transaction
from django.db.models import QuerySet

from users.models import User


class DuplicateUserError(Exception):
    """The username or email is taken; ``field`` names which one."""

    def __init__(self, field: str) -> None:
        # The same words as the validators' (Django's own, for the username).
        article = "that" if field == "username" else "this"
        super().__init__(f"A user with {article} {field} already exists.")
        self.field = field


def username_taken(username: str, *, exclude_pk: int | None = None) -> bool:
    # Case-insensitive, as Django's own UserCreationForm checks it.
    return _others(User.objects.filter(username__iexact=username), exclude_pk).exists()


def email_taken(email: str, *, exclude_pk: int | None = None) -> bool:
    return _others(User.objects.filter(email__iexact=email), exclude_pk).exists()


def _others(users: QuerySet[User], exclude_pk: int | None) -> QuerySet[User]:
    """``users`` less the row ``exclude_pk`` (none less for None)."""
    return users if exclude_pk is None else users.exclude(pk=exclude_pk)


def register_user(*, username: str, email: str, password: str, full_name: str = "") -> User:
    """Create a user; raise DuplicateUserError if another request took the name or email first."""
    try:
        with transaction.atomic():
            return User.objects.create_user(
                username=username, email=email, password=password, full_name=full_name
            )
    except IntegrityError as exc:
        raise _duplicate(username=username, email=email) from exc


def update_user(*, user: User, changes: dict[str, Any]) -> User:
    """Apply profile changes; on a concurrent clash raise DuplicateUserError, row unchanged."""
    for field, value in changes.items():
        setattr(user, field, value)
    try:
        with transaction.atomic():
            user.save(update_fields=[*changes, "updated_at"])
    except IntegrityError as exc:
        user.refresh_from_db()
        raise _duplicate(
            username=changes.get("username", ""), email=changes.get("email", ""), exclude=user.pk
        ) from exc
    return user


def _duplicate(*, username: str, email: str, exclude: int | None = None) -> DuplicateUserError:
    if username and username_taken(username, exclude_pk=exclude):
        return DuplicateUserError("username")
    return DuplicateUserError("email")
