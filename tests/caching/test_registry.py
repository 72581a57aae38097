"""Registered models: the cache follows commits (never before, never on rollback)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import connection, transaction

from caching.entries import Versioned
from caching.registry import MARK_SECONDS
from users.cache import cached_users
from users.models import User

pytestmark = [pytest.mark.redis, pytest.mark.django_db]


def cached_name(user: User) -> Any:
    result = cached_users.get(user.pk, "api")
    return result.value and result.value["full_name"], result.status


def test_versions_increase_on_every_save(make_user: Callable[..., User]) -> None:
    user = make_user()
    assert user.version == 1
    user.full_name = "B"
    user.save()
    user.save(update_fields=["full_name"])
    assert user.version == 3
    assert User.objects.get(pk=user.pk).version == 3


def test_a_committed_save_is_written_through(
    make_user: Callable[..., User], django_capture_on_commit_callbacks: Any
) -> None:
    user = make_user(full_name="A")
    assert cached_name(user) == ("A", "MISS")
    with django_capture_on_commit_callbacks(execute=True):
        user.full_name = "B"
        user.save()
    assert cached_name(user) == ("B", "HIT")


def test_nothing_reaches_the_cache_before_commit(
    make_user: Callable[..., User], django_capture_on_commit_callbacks: Any
) -> None:
    """The save marks the entry before its commit: a reader in between reads the database
    and cannot cache the committed v1 (it would be served after the commit of v2)."""
    user = make_user(full_name="A")
    committed = cached_users.get(user.pk, "api").value  # v1, as other connections see it
    assert cached_name(user) == ("A", "HIT")
    key = cached_users.key(user.pk, "api")
    with django_capture_on_commit_callbacks(execute=True):
        user.full_name = "B"
        user.save()
        # Before our commit, a concurrent reader misses and loads the committed v1.
        for _ in range(2):
            reader = cached_users.service.get(key, lambda: Versioned(committed, 1), ttl=60)
            assert (reader.value["full_name"], reader.status) == ("A", "MISS")
    assert cached_name(user) == ("B", "HIT")


def test_a_rolled_back_save_leaves_the_database_row_served(
    make_user: Callable[..., User], django_capture_on_commit_callbacks: Any, redis_client: Any
) -> None:
    """The save's mark outlives its rollback: readers get the row from the database (never
    the rolled-back value) until the mark expires, after MARK_SECONDS."""
    user = make_user(full_name="A")
    cached_name(user)
    with django_capture_on_commit_callbacks(execute=True) as callbacks:
        try:
            with transaction.atomic():
                user.full_name = "rolled back"
                user.save()
                raise RuntimeError
        except RuntimeError:
            pass
    assert callbacks == []
    assert cached_name(user) == ("A", "MISS")
    assert 0 < redis_client.ttl(cached_users.key(user.pk, "api")) <= MARK_SECONDS


def test_commits_applied_in_reverse_order_leave_the_newest(
    make_user: Callable[..., User], django_capture_on_commit_callbacks: Any
) -> None:
    user = make_user(full_name="A")
    with django_capture_on_commit_callbacks() as callbacks:
        user.full_name = "v2"
        user.save()
        user.full_name = "v3"
        user.save()
    for callback in reversed(callbacks):  # the v3 writer's cache write lands first
        callback()
    assert cached_name(user) == ("v3", "HIT")


def test_a_delete_is_a_miss_that_finds_nothing(
    make_user: Callable[..., User], django_capture_on_commit_callbacks: Any
) -> None:
    user = make_user()
    cached_name(user)
    pk = user.pk
    with django_capture_on_commit_callbacks(execute=True):
        user.delete()
    assert cached_users.get(pk, "api").value is None


def test_bulk_update_keeps_the_cache_right(
    make_user: Callable[..., User], django_capture_on_commit_callbacks: Any
) -> None:
    users = [make_user(full_name="old") for _ in range(3)]
    for user in users:
        cached_name(user)
    with django_capture_on_commit_callbacks(execute=True):
        count = cached_users.bulk_update(User.objects.filter(full_name="old"), full_name="bulk")
    assert count == 3
    for user in users:
        assert cached_name(user) == ("bulk", "HIT")
        assert User.objects.get(pk=user.pk).version == 2


def test_a_plain_queryset_update_is_written_through(
    make_user: Callable[..., User], django_capture_on_commit_callbacks: Any
) -> None:
    """QuerySet.update() sends no post_save: the versioned queryset reports its rows."""
    user = make_user(full_name="old")
    cached_name(user)
    with django_capture_on_commit_callbacks(execute=True):
        assert User.objects.filter(pk=user.pk).update(full_name="new") == 1
    assert cached_name(user) == ("new", "HIT")
    assert User.objects.get(pk=user.pk).version == 2


def test_an_upserting_bulk_create_is_written_through(
    make_user: Callable[..., User], django_capture_on_commit_callbacks: Any
) -> None:
    """``bulk_create(update_conflicts=True)`` updates rows in place, with no signal."""
    user = make_user(username="bob", full_name="old")
    cached_name(user)
    incoming = User(username="bob", email=user.email, full_name="new")
    with django_capture_on_commit_callbacks(execute=True):
        User.objects.bulk_create(
            [incoming], update_conflicts=True, unique_fields=["username"],
            update_fields=["full_name"],
        )  # fmt: skip
    assert cached_name(user) == ("new", "HIT")
    assert User.objects.get(pk=user.pk).version == 2


def test_bulk_update_is_written_through(
    make_user: Callable[..., User], django_capture_on_commit_callbacks: Any
) -> None:
    users = [make_user(full_name=f"old{i}") for i in range(3)]
    for user in users:
        cached_name(user)
    for i, user in enumerate(users):
        user.full_name = f"new{i}"
    with django_capture_on_commit_callbacks(execute=True):
        User.objects.bulk_update(users, ["full_name"])
    assert [cached_name(user) for user in users] == [(f"new{i}", "HIT") for i in range(3)]


def test_a_queryset_delete_drops_the_cached_rows(
    make_user: Callable[..., User], django_capture_on_commit_callbacks: Any
) -> None:
    user = make_user(full_name="gone")
    cached_name(user)
    with django_capture_on_commit_callbacks(execute=True):
        User.objects.filter(pk=user.pk).delete()
    assert cached_name(user) == (None, "MISS")


def test_a_rolled_back_queryset_update_leaves_the_database_row_served(
    make_user: Callable[..., User], django_capture_on_commit_callbacks: Any
) -> None:
    user = make_user(full_name="kept")
    cached_name(user)

    def update_then_fail() -> None:
        with transaction.atomic():
            User.objects.filter(pk=user.pk).update(full_name="never")
            raise RuntimeError

    with (
        django_capture_on_commit_callbacks(execute=True) as callbacks,
        pytest.raises(RuntimeError),
    ):
        update_then_fail()
    assert callbacks == []
    assert cached_name(user) == ("kept", "MISS")


def test_partial_saves_of_stale_objects_cache_what_the_database_holds(
    make_user: Callable[..., User], django_capture_on_commit_callbacks: Any
) -> None:
    """Two objects loaded before either write, each saving one field: the cache holds
    both changes, not the second object's stale copy of the first field."""
    user = make_user(email="old@example.com", full_name="Old")
    first, second = User.objects.get(pk=user.pk), User.objects.get(pk=user.pk)
    with django_capture_on_commit_callbacks(execute=True):
        first.email = "new@example.com"
        first.save(update_fields=["email"])
    with django_capture_on_commit_callbacks(execute=True):
        second.full_name = "New"
        second.save(update_fields=["full_name"])
    cached = cached_users.get(user.pk, "api")
    assert cached.status == "HIT"
    assert (cached.value["email"], cached.value["full_name"]) == ("new@example.com", "New")


def test_after_raw_sql_a_bulk_update_without_changes_refreshes_the_cache(
    make_user: Callable[..., User], django_capture_on_commit_callbacks: Any
) -> None:
    """The one call docs/caching.md gives for writes the cache cannot see."""
    user = make_user(full_name="before")
    cached_name(user)
    with connection.cursor() as cursor:
        cursor.execute(
            f"UPDATE {User._meta.db_table} SET full_name = %s WHERE id = %s", ["raw", user.pk]
        )
    assert cached_name(user) == ("before", "HIT")  # invisible to the cache, as documented
    with django_capture_on_commit_callbacks(execute=True):
        cached_users.bulk_update(User.objects.filter(pk=user.pk))
    assert cached_name(user) == ("raw", "HIT")
