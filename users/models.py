from __future__ import annotations

from collections.abc import Iterator
from typing import Any, ClassVar, NoReturn, Self

from django.contrib.auth.models import AbstractUser, UserManager
from django.db import models
from django.db.models.functions import Lower
from django.utils.dateparse import parse_datetime

from caching.models import VersionedModel, VersionedQuerySet


class UsersManager(UserManager.from_queryset(VersionedQuerySet)):  # type: ignore[misc]
    """Django's UserManager on a VersionedQuerySet."""


class User(VersionedModel, AbstractUser):
    """The project's user: unique username and email (both case-insensitive; usernames
    NFKC-normalised, so look-alikes such as fullwidth letters are the same name) and a
    free-form full name."""

    # Required, and unique regardless of case through the constraint below.
    email = models.EmailField("email address")
    full_name = models.CharField(max_length=150, blank=True)
    updated_at = models.DateTimeField(auto_now=True)
    # Counted in Redis first, flushed here in batches (users/counters.py).
    profile_views = models.PositiveBigIntegerField(default=0, editable=False)
    login_count = models.PositiveBigIntegerField(default=0, editable=False)
    # The source of truth for the leaderboard (users/leaderboard.py).
    points = models.BigIntegerField(default=0, db_index=True, editable=False)

    # Queryset writes (update, bulk_update) bump versions and keep the cache exact.
    objects: ClassVar[UserManager[Self]] = UsersManager()

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(
                Lower("email"),
                name="users_user_email_ci_unique",
                violation_error_message="A user with this email already exists.",
            ),
            # Checked case-insensitively by the API too; this makes it hold under races.
            models.UniqueConstraint(
                Lower("username"),
                name="users_user_username_ci_unique",
                violation_error_message="A user with that username already exists.",
            ),
        ]

    def __str__(self) -> str:
        return self.username

    def save(self, *args: Any, **kwargs: Any) -> None:
        super().save(*args, **kwargs)  # post_save, inside, still sees the loaded values
        self._loaded = {f.attname: getattr(self, f.attname) for f in self._meta.concrete_fields}

    @classmethod
    def from_db(cls, db: str | None, field_names: Any, values: Any, **kwargs: Any) -> User:
        instance = super().from_db(db, field_names, values, **kwargs)  # 6.1 adds fetch_mode
        # What the row held when loaded: saves report which fields they changed.
        instance._loaded = dict(zip(field_names, values, strict=True))
        return instance

    def changed_fields(self) -> list[str]:
        """Fields whose value differs from the loaded row (all of them if not loaded)."""
        loaded = getattr(self, "_loaded", None)
        fields = [f for f in self._meta.concrete_fields if not f.primary_key]
        if loaded is None:
            return [f.name for f in fields]
        return [
            f.name
            for f in fields
            if f.attname in loaded and getattr(self, f.attname) != loaded[f.attname]
        ]


class UserTag(models.Model):
    """A tag on a user: the database holds the truth, Redis sets the index."""

    user = models.ForeignKey(User, on_delete=models.CASCADE, related_name="tags")
    tag = models.SlugField(max_length=32)

    class Meta:
        constraints = [models.UniqueConstraint("user", "tag", name="users_usertag_unique")]
        ordering = ["tag"]

    def __str__(self) -> str:
        return self.tag


class CounterFlush(models.Model):
    """A batch of write-back counts applied to the database, once (its claim id is unique)."""

    claim_id = models.CharField(max_length=32, unique=True)
    fence = models.BigIntegerField()
    users = models.PositiveIntegerField()
    increments = models.PositiveBigIntegerField()
    applied_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["-applied_at"]

    def __str__(self) -> str:
        return f"{self.claim_id}: {self.increments} in {self.users} users"


class CachedUser(User):
    """A signed-in user rebuilt from the cache: no database query, no password hash.

    Django's session check compares the session's hash with ``get_session_auth_hash()``;
    the cache keeps that HMAC (not the password hash), so a password change, which writes
    the new HMAC through, still ends the other sessions. Read-only: load the user from
    the database to change it.
    """

    class Meta:
        proxy = True

    auth_hash: str = ""
    auth_fallback_hashes: tuple[str, ...] = ()

    @classmethod
    def from_record(cls, record: dict[str, Any]) -> CachedUser:
        fields = {k: v for k, v in record.items() if k not in {"auth_hash", "auth_fallbacks"}}
        for name in ("date_joined", "last_login"):
            fields[name] = fields[name] and parse_datetime(fields[name])
        user = cls(**fields)
        user._state.adding = False
        user.auth_hash = record["auth_hash"]
        user.auth_fallback_hashes = tuple(record["auth_fallbacks"])
        return user

    def get_session_auth_hash(self) -> str:
        return self.auth_hash

    def get_session_auth_fallback_hash(self) -> Iterator[str]:
        yield from self.auth_fallback_hashes

    def save(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("CachedUser is a read-only snapshot; load the User to change it")

    def delete(self, *args: Any, **kwargs: Any) -> NoReturn:
        raise TypeError("CachedUser is a read-only snapshot; load the User to delete it")
