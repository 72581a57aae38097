from __future__ import annotations

from collections.abc import Callable

import pytest
from django.test import Client
from redis import RedisError

from caching.services import cache_service
from project.web.errors import REDIS_RETRY_AFTER
from users.models import User

pytestmark = [pytest.mark.redis, pytest.mark.django_db]


def test_stats_are_for_staff_only(client: Client, make_user: Callable[..., User]) -> None:
    assert client.get("/api/cache/stats/").status_code == 403
    client.force_login(make_user())
    assert client.get("/api/cache/stats/").status_code == 403


def test_stats_count_hits_and_misses(client: Client, make_user: Callable[..., User]) -> None:
    user = make_user()
    before = None
    client.force_login(make_user(is_staff=True))
    before = client.get("/api/cache/stats/").json()["totals"]
    client.get(f"/api/users/{user.pk}/")
    client.get(f"/api/users/{user.pk}/")
    after = client.get("/api/cache/stats/").json()
    assert after["breaker"] == "closed"
    assert after["totals"]["hit"] - before["hit"] >= 1
    assert after["totals"]["miss"] - before["miss"] >= 1


def test_stats_without_redis_are_a_503_that_says_when_to_retry(
    client: Client, make_user: Callable[..., User], monkeypatch: pytest.MonkeyPatch
) -> None:
    client.force_login(make_user(is_staff=True))

    def unreachable() -> dict[str, int]:
        raise RedisError("Redis is unreachable")

    monkeypatch.setattr(cache_service, "flush_metrics", unreachable)
    response = client.get("/api/cache/stats/")
    assert response.status_code == 503
    assert response.json()["breaker"] in ("closed", "open")  # this process's own counts
    assert response["Retry-After"] == str(REDIS_RETRY_AFTER)
