"""An API write the cache cannot be told about is refused (503, nothing committed); one it
can be told about goes through, whatever this process's breaker thinks."""

from __future__ import annotations

from collections.abc import Callable, Iterator

import pytest
import redis

from caching.services import cache_service
from project.redis.breaker import CircuitBreaker
from tests.clients import BrowserClient
from users.models import User

pytestmark = [pytest.mark.redis, pytest.mark.django_db]


@pytest.fixture
def writes_paused(redis_client: redis.Redis) -> Iterator[None]:
    """Redis answers reads but holds every write past the socket timeout (as while it
    fsyncs, replicates or sits at maxmemory), until the test ends."""
    redis_client.client_pause(10_000, all=False)  # CLIENT PAUSE 10000 WRITE
    try:
        yield
    finally:
        redis_client.client_unpause()


@pytest.fixture
def bob(api: BrowserClient, make_user: Callable[..., User]) -> User:
    user = make_user(username="bob", full_name="Before")
    api.sign_in("bob")
    assert api.get("/api/auth/me/").status_code == 200  # the auth snapshot is cached
    return user


@pytest.mark.standalone
def test_a_write_redis_cannot_mark_is_a_503_and_commits_nothing(
    api: BrowserClient, bob: User, writes_paused: None
) -> None:
    response = api.unsafe("patch", f"/api/users/{bob.pk}/", {"full_name": "After"})
    assert response.status_code == 503
    assert response["Content-Type"] == "application/json"
    assert int(response["Retry-After"]) >= 1
    assert "retry" in response.json()["detail"]
    bob.refresh_from_db()
    assert bob.full_name == "Before"


def test_a_write_goes_through_with_the_breaker_open_when_redis_takes_it(
    api: BrowserClient, bob: User, django_capture_on_commit_callbacks: object
) -> None:
    cache_service.recovery.breaker = CircuitBreaker(cooldown=60)
    cache_service.breaker.failure()  # a blip a moment ago: reads skip Redis for a minute
    assert not cache_service.breaker.allow()
    response = api.unsafe("patch", f"/api/users/{bob.pk}/", {"full_name": "After"})
    assert response.status_code == 200
    bob.refresh_from_db()
    assert bob.full_name == "After"
    assert cache_service.breaker.allow()  # the mark reached Redis: the breaker closed
    assert api.get(f"/api/users/{bob.pk}/").json()["full_name"] == "After"
