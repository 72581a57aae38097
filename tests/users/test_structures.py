"""Recent searches, tags and the leaderboard over the API, on the real Redis."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

import pytest
import redis
from django.core.management import call_command
from rest_framework.test import APIClient

from tests.clients import BrowserClient
from users import keys, leaderboard, searches
from users import tags as tag_index
from users.models import User

pytestmark = [pytest.mark.redis, pytest.mark.django_db]


@pytest.fixture
def bob(make_user: Callable[..., User]) -> BrowserClient:
    make_user(username="bob")
    client = BrowserClient()
    client.sign_in("bob")
    return client


# --- Recent searches -----------------------------------------------------------------


def test_searches_are_newest_first_distinct_and_at_most_ten(
    bob: BrowserClient, redis_client: redis.Redis
) -> None:
    for q in ["a", "b", "a", *[f"q{i}" for i in range(12)], "  b  "]:
        response = bob.unsafe("post", "/api/me/searches/", {"q": q})
        assert response.status_code == 200
    listed = bob.get("/api/me/searches/").json()["searches"]
    assert listed == ["b", "q11", "q10", "q9", "q8", "q7", "q6", "q5", "q4", "q3"]
    user_id = User.objects.get(username="bob").pk
    assert 29 * 86400 < redis_client.ttl(keys.searches(user_id)) <= 30 * 86400


@pytest.mark.parametrize("q", ["", "   ", "x" * 201, None, ["a"], {"q": 1}])
def test_bad_searches_are_a_400(bob: BrowserClient, q: Any) -> None:
    response = bob.unsafe("post", "/api/me/searches/", {"q": q})
    assert response.status_code == 400
    assert "q" in response.json()


def test_searches_need_a_signed_in_user() -> None:
    assert APIClient().get("/api/me/searches/").status_code == 403


def test_concurrent_pushes_keep_ten_distinct(redis_client: redis.Redis, together: Any) -> None:
    def push(worker: int) -> None:
        for i in range(20):
            searches.push(user_id=7, query=f"q{(worker + i) % 15}")

    together(16, push)
    final = searches.recent(7)
    assert len(final) == 10
    assert len(set(final)) == 10
    assert redis_client.llen(keys.searches(7)) == 10


# --- Tags ----------------------------------------------------------------------------


def tags_of(client: BrowserClient, user_id: int) -> list[str]:
    return client.get(f"/api/users/{user_id}/tags/").json()["tags"]


def test_tags_round_trip_and_index(
    bob: BrowserClient, make_user: Callable[..., User], django_capture_on_commit_callbacks: Any
) -> None:
    me = User.objects.get(username="bob")
    other = make_user(username="carol")
    with django_capture_on_commit_callbacks(execute=True):
        put = bob.unsafe(
            "put", f"/api/users/{me.pk}/tags/", {"tags": ["python", "redis", "python"]}
        )
        other.tags.create(tag="redis")
    assert put.json() == {"tags": ["python", "redis"]}
    call_command("rebuild_indexes")  # carol's tag came in through the ORM, not the API
    assert tags_of(bob, me.pk) == ["python", "redis"]
    assert bob.get("/api/tags/redis/users/").json()["users"] == sorted([me.pk, other.pk])
    common = bob.get(f"/api/tags/common/?users={me.pk},{other.pk}").json()
    assert common["tags"] == ["redis"]
    union = bob.get(f"/api/tags/common/?any={me.pk},{other.pk}").json()
    assert union["tags"] == ["python", "redis"]
    with django_capture_on_commit_callbacks(execute=True):
        bob.unsafe("put", f"/api/users/{me.pk}/tags/", {"tags": ["django"]})
    assert bob.get("/api/tags/redis/users/").json()["users"] == [other.pk]


@pytest.mark.parametrize(
    "tags",
    [["Python"], ["has space"], ["-x"], ["x" * 33], "python", [1], [f"t{i}" for i in range(21)]],
)
def test_bad_tags_are_a_400(bob: BrowserClient, tags: Any) -> None:
    me = User.objects.get(username="bob")
    response = bob.unsafe("put", f"/api/users/{me.pk}/tags/", {"tags": tags})
    assert response.status_code == 400
    assert tags_of(bob, me.pk) == []


def test_only_the_user_or_staff_change_tags(
    bob: BrowserClient, make_user: Callable[..., User]
) -> None:
    other = make_user(username="carol")
    assert bob.unsafe("put", f"/api/users/{other.pk}/tags/", {"tags": ["x"]}).status_code == 403


@pytest.mark.parametrize(
    "query",
    ["", "?users=", "?users=a,b", "?users=1&any=2", "?any=" + ",".join(map(str, range(101)))],
)
def test_bad_tag_queries_are_a_400(query: str) -> None:
    assert APIClient().get(f"/api/tags/common/{query}").status_code == 400


def test_rebuild_gives_the_same_tag_index(
    make_user: Callable[..., User],
    redis_client: redis.Redis,
    django_capture_on_commit_callbacks: Any,
) -> None:
    users = [make_user() for _ in range(4)]
    from users import tags

    with django_capture_on_commit_callbacks(execute=True):
        for i, user in enumerate(users):
            tags.set_tags(user=user, tags=[f"t{i % 2}", "all"])

    def snapshot() -> dict[str, set[bytes]]:
        names = [keys.tag_users(t) for t in ("t0", "t1", "all")]
        names += [keys.user_tags(u.pk) for u in users]
        return {name: cast("set[bytes]", redis_client.smembers(name)) for name in names}

    before = snapshot()
    redis_client.delete(keys.tag_users("all"))
    redis_client.sadd(keys.tag_users("stale"), 999)
    call_command("rebuild_indexes")
    assert snapshot() == before
    assert not redis_client.exists(keys.tag_users("stale"))


# --- Leaderboard ---------------------------------------------------------------------


@pytest.fixture
def staff(make_user: Callable[..., User]) -> BrowserClient:
    make_user(username="root", is_staff=True)
    client = BrowserClient()
    client.sign_in("root")
    return client


def test_points_build_the_leaderboard(
    staff: BrowserClient, make_user: Callable[..., User], django_capture_on_commit_callbacks: Any
) -> None:
    a, b, c = make_user(username="a"), make_user(username="b"), make_user(username="c")
    with django_capture_on_commit_callbacks(execute=True):
        for user, delta in ((a, 5), (b, 7), (c, 7), (a, -1)):
            response = staff.unsafe("post", f"/api/users/{user.pk}/points/", {"delta": delta})
            assert response.status_code == 200
    assert response.json() == {"user_id": a.pk, "points": 4}
    board = staff.get("/api/leaderboard/?limit=3").json()["results"]
    # Ties (b and c at 7) are ordered by id, the higher first.
    assert [(r["username"], r["rank"], r["points"]) for r in board] == [
        ("c", 1, 7), ("b", 2, 7), ("a", 3, 4),
    ]  # fmt: skip
    assert staff.get(f"/api/users/{a.pk}/rank/").json() == {"user_id": a.pk, "rank": 3, "points": 4}
    assert staff.get("/api/leaderboard/?limit=1&offset=2").json()["results"][0]["username"] == "a"


def test_index_updates_applied_in_any_order_agree(
    make_user: Callable[..., User], django_capture_on_commit_callbacks: Any
) -> None:
    user = make_user()
    with django_capture_on_commit_callbacks() as callbacks:
        leaderboard.add_points(user_id=user.pk, delta=10)
        leaderboard.add_points(user_id=user.pk, delta=-3)
    for callback in reversed(callbacks):
        callback()
    standing = leaderboard.standing(user.pk)
    assert standing is not None
    assert standing.points == 7


def test_points_are_for_staff(bob: BrowserClient) -> None:
    me = User.objects.get(username="bob")
    assert bob.unsafe("post", f"/api/users/{me.pk}/points/", {"delta": 5}).status_code == 403


@pytest.mark.parametrize("delta", ["x", 1.5, True, None, 10**7, ""])
def test_bad_deltas_are_a_400(
    staff: BrowserClient, make_user: Callable[..., User], delta: Any
) -> None:
    user = make_user()
    response = staff.unsafe("post", f"/api/users/{user.pk}/points/", {"delta": delta})
    assert response.status_code == 400
    assert User.objects.get(pk=user.pk).points == 0


@pytest.mark.parametrize("query", ["?limit=0", "?limit=101", "?offset=-1", "?limit=x"])
def test_bad_leaderboard_queries_are_a_400(query: str) -> None:
    assert APIClient().get(f"/api/leaderboard/{query}").status_code == 400


def test_rebuild_and_deletion(
    make_user: Callable[..., User],
    redis_client: redis.Redis,
    django_capture_on_commit_callbacks: Any,
) -> None:
    users = [make_user() for _ in range(5)]
    with django_capture_on_commit_callbacks(execute=True):
        for i, user in enumerate(users):
            leaderboard.add_points(user_id=user.pk, delta=i * 10)
    before = redis_client.zrange(keys.leaderboard(), 0, -1, withscores=True)
    redis_client.delete(keys.leaderboard())
    call_command("rebuild_indexes")
    assert redis_client.zrange(keys.leaderboard(), 0, -1, withscores=True) == before
    gone = users[-1].pk
    with django_capture_on_commit_callbacks(execute=True):
        users[-1].delete()
    assert leaderboard.standing(gone) is None
    assert APIClient().get(f"/api/users/{gone}/rank/").status_code == 404


def test_tag_index_updates_applied_in_any_order_agree(
    make_user: Callable[..., User], django_capture_on_commit_callbacks: Any
) -> None:
    """Two tag writes whose after-commit index updates run in the reverse order: the
    index still ends as the database does."""
    user = make_user()
    with django_capture_on_commit_callbacks() as callbacks:
        tag_index.set_tags(user=user, tags=["a"])
        tag_index.set_tags(user=user, tags=["b"])
    for callback in reversed(callbacks):
        callback()
    assert tag_index.users_with("a") == []
    assert tag_index.users_with("b") == [user.pk]
    assert tag_index.combined([user.pk], union=True) == ["b"]


def test_tag_and_points_edits_outside_the_api_reach_the_indexes(
    make_user: Callable[..., User], django_capture_on_commit_callbacks: Any
) -> None:
    """What the admin does (a tag inline, the points field), no rebuild_indexes needed."""
    user = make_user()
    with django_capture_on_commit_callbacks(execute=True):
        user.tags.create(tag="admin-made")
        user.points = 9
        user.save()
    assert tag_index.users_with("admin-made") == [user.pk]
    assert leaderboard.standing(user.pk) == leaderboard.Standing(user.pk, 1, 9)
    with django_capture_on_commit_callbacks(execute=True):
        user.tags.filter(tag="admin-made").delete()
    assert tag_index.users_with("admin-made") == []


@pytest.mark.standalone
def test_a_tag_write_whose_index_update_fails_after_commit_still_answers_200(
    bob: BrowserClient, redis_client: redis.Redis, django_capture_on_commit_callbacks: Any
) -> None:
    """The database has the change: a 5xx would make the client retry a done write."""
    me = User.objects.get(username="bob")
    redis_client.client_pause(10_000, all=False)  # reads answer, writes stall past timeouts
    try:
        with django_capture_on_commit_callbacks(execute=True):
            put = bob.unsafe("put", f"/api/users/{me.pk}/tags/", {"tags": ["late"]})
    finally:
        redis_client.client_unpause()
    assert (put.status_code, put.json()) == (200, {"tags": ["late"]})
    assert list(me.tags.values_list("tag", flat=True)) == ["late"]
    assert tag_index.users_with("late") == []  # the index update did fail
    with django_capture_on_commit_callbacks(execute=True):
        bob.unsafe("put", f"/api/users/{me.pk}/tags/", {"tags": ["late"]})  # the next write repairs
    assert tag_index.users_with("late") == [me.pk]


@pytest.mark.usefixtures("redis_down")
@pytest.mark.parametrize(
    "path",
    ["/api/leaderboard/", "/api/users/1/rank/", "/api/tags/x/users/", "/api/tags/common/?users=1"],
)
def test_redis_backed_reads_are_a_503_with_retry_after_when_redis_is_down(path: str) -> None:
    response = APIClient().get(path)
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert int(response["Retry-After"]) > 0
    assert "Retry" in response.json()["detail"]
