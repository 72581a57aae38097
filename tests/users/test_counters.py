"""Write-back counters: nothing lost, nothing counted twice, whatever the flusher does."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
import redis
from django.core.management import call_command
from rest_framework.test import APIClient

from project.locks import keys as lock_keys
from tests.conftest import Manage
from tests.own_redis import ReplicatedRedis, SnapshotRedis
from users import counters, keys
from users.models import CounterFlush, User

pytestmark = pytest.mark.redis


class CrashError(Exception):
    pass


def crash() -> None:
    raise CrashError


def stored(user: User) -> tuple[int, int]:
    user.refresh_from_db()
    return user.profile_views, user.login_count


@pytest.mark.django_db
def test_concurrent_increments_all_arrive(make_user: Callable[..., User], together: Any) -> None:
    user = make_user()
    together(16, lambda _: [counters.count_view(user.pk) for _ in range(100)])
    assert counters.pending(user.pk).views == 1600
    assert counters.flush().increments == 1600
    assert stored(user) == (1600, 0)
    assert counters.pending(user.pk).views == 0


@pytest.mark.django_db
def test_a_flusher_killed_before_its_commit_loses_nothing(
    make_user: Callable[..., User], redis_client: redis.Redis
) -> None:
    user = make_user()
    for _ in range(3):
        counters.count_view(user.pk)
    counters.count_login(user.pk)
    with pytest.raises(CrashError):
        counters.flush(before_commit=crash)  # dies between claim and commit
    assert stored(user) == (0, 0)
    assert redis_client.exists(keys.counters_claim())
    assert counters.pending(user.pk).views == 3  # still shown: the claim counts
    counters.count_view(user.pk)  # counting goes on meanwhile
    counters.flush()  # applies the orphaned claim
    counters.flush()  # then what came after
    assert stored(user) == (4, 1)
    assert not redis_client.exists(keys.counters_claim())


@pytest.mark.django_db
def test_a_flusher_killed_after_its_commit_counts_nothing_twice(
    make_user: Callable[..., User], redis_client: redis.Redis
) -> None:
    user = make_user()
    for _ in range(5):
        counters.count_view(user.pk)
    with pytest.raises(CrashError):
        counters.flush(after_commit=crash)  # committed, but the claim was not dropped
    assert stored(user) == (5, 0)
    assert redis_client.exists(keys.counters_claim())
    result = counters.flush()
    assert result.reapplied
    assert stored(user) == (5, 0)
    assert not redis_client.exists(keys.counters_claim())


@pytest.mark.django_db(transaction=True)
def test_two_flushers_never_double_apply(make_user: Callable[..., User], together: Any) -> None:
    users = [make_user() for _ in range(3)]
    for user in users:
        for _ in range(10):
            counters.count_view(user.pk)

    def flush(_: int) -> counters.FlushResult:
        try:
            return counters.flush(lock_timeout=10)
        finally:
            from django.db import connection

            connection.close()

    results = together(2, flush)
    assert sorted(r.increments for r in results) == [0, 30]
    assert [stored(u)[0] for u in users] == [10, 10, 10]
    assert CounterFlush.objects.count() == 1


@pytest.mark.django_db
def test_counts_of_a_deleted_user_are_dropped(make_user: Callable[..., User]) -> None:
    gone, kept = make_user(), make_user()
    counters.count_view(gone.pk)
    counters.count_view(kept.pk)
    gone.delete()
    assert counters.flush().increments == 2
    assert stored(kept) == (1, 0)


@pytest.mark.django_db
def test_the_api_shows_stored_plus_pending(
    make_user: Callable[..., User], django_capture_on_commit_callbacks: Any
) -> None:
    user = make_user()
    client = APIClient()
    assert client.get(f"/api/users/{user.pk}/").json()["profile_views"] == 1
    assert client.get(f"/api/users/{user.pk}/").json()["profile_views"] == 2
    with django_capture_on_commit_callbacks(execute=True):  # the flush's write-through
        counters.flush()
    third = client.get(f"/api/users/{user.pk}/")
    assert third["X-Cache"] == "HIT"
    assert third.json()["profile_views"] == 3  # 2 stored + 1 pending


@pytest.mark.django_db
def test_logins_are_counted(make_user: Callable[..., User]) -> None:
    make_user(username="bob", password="correct-Horse-battery-9")
    client = APIClient()
    for _ in range(2):
        client.post(
            "/api/auth/login/",
            {"username": "bob", "password": "correct-Horse-battery-9"},
            format="json",
        )
    user = User.objects.get(username="bob")
    assert counters.pending(user.pk).logins == 2
    call_command("flush_counters")
    assert stored(user) == (0, 2)


@pytest.mark.django_db
def test_a_batch_redis_brings_back_after_its_flush_is_not_applied_again(
    make_user: Callable[..., User], snapshot_server: SnapshotRedis
) -> None:
    user, own = make_user(), snapshot_server.client()
    for _ in range(3):
        counters.count_view(user.pk, client=own)
    snapshot_server.snapshot()  # holds the batch, unflushed
    assert counters.flush(client=own).increments == 3
    snapshot_server.crash_and_restart()  # the batch is pending again
    again = counters.flush(client=own)
    assert (again.increments, again.reapplied) == (0, True)
    assert stored(user) == (3, 0)


@pytest.mark.django_db
def test_a_replica_promoted_between_claim_and_commit_does_not_apply_the_batch_twice(
    make_user: Callable[..., User], replicated: ReplicatedRedis
) -> None:
    user, primary = make_user(), replicated.client(replicated.primary)
    for _ in range(3):
        counters.count_view(user.pk, client=primary)
    replicated.wait_in_sync()
    # The claim (RENAME) reaches the primary only: the replica still holds the batch.
    assert counters.flush(client=primary, before_commit=replicated.cut_off_replica).increments == 3
    promoted = replicated.client(replicated.replica)
    promoted.delete(lock_keys.lock(counters.FLUSH_LOCK))  # as its TTL would, a minute later
    assert counters.pending(user.pk, client=promoted).views == 3  # shown, until its flush
    assert counters.flush(client=promoted).reapplied
    assert stored(user) == (3, 0)


@pytest.mark.parametrize("command", ["flush_counters", "rebuild_indexes"])
def test_a_command_run_while_redis_is_down_says_so_without_a_traceback(
    command: str, manage: Manage
) -> None:
    result = manage(command, REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens on port 1
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    assert "Redis unavailable" in result.stderr
    assert "run it again once Redis answers" in result.stderr
