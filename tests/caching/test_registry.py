"""Registered models: the cache follows commits (never before, never on rollback)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.db import transaction

from caching.entries import Versioned
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
    """A reader that re-caches the committed row mid-transaction is overwritten at commit."""
    user = make_user(full_name="A")
    committed = cached_users.get(user.pk, "api").value  # v1, as other connections see it
    cached_users.service.invalidate(cached_users.key(user.pk, "api"), version=1, ttl=60)
    with django_capture_on_commit_callbacks(execute=True):
        user.full_name = "B"
        user.save()
        # Before our commit, a concurrent reader misses and fills the committed v1.
        reader = cached_users.service.get(
            cached_users.key(user.pk, "api"), lambda: Versioned(committed, 1), ttl=60
        )
        assert reader.status == "MISS"
        assert cached_name(user) == ("A", "HIT")
    assert cached_name(user) == ("B", "HIT")


def test_a_rolled_back_save_leaves_the_cache_alone(
    make_user: Callable[..., User], django_capture_on_commit_callbacks: Any
) -> None:
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
    assert cached_name(user) == ("A", "HIT")


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


def test_a_plain_queryset_update_would_leave_the_cache_stale(
    make_user: Callable[..., User], django_capture_on_commit_callbacks: Any
) -> None:
    """Why the bulk helper exists: QuerySet.update() sends no signal."""
    user = make_user(full_name="old")
    cached_name(user)
    with django_capture_on_commit_callbacks(execute=True):
        User.objects.filter(pk=user.pk).update(full_name="new")
    assert cached_name(user) == ("old", "HIT")
