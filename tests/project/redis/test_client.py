"""The one Redis access point: key grammar, fail-fast client, JSON values."""

from __future__ import annotations

import json
from typing import cast

import pytest
import redis
from django.conf import settings
from django.core.cache import cache
from django.test import override_settings
from django_redis.cache import RedisCache

from project.redis.client import get_client
from project.redis.keys import make_key


def test_keys_follow_the_grammar() -> None:
    assert make_key("users", "user", 42, "views") == "app:users:user:42:views"


@override_settings(REDIS_KEY_PREFIX="tenant7")
def test_prefix_is_read_at_call_time() -> None:
    assert make_key("users", "user") == "tenant7:users:user"


def test_empty_key_parts_are_refused() -> None:
    with pytest.raises(ValueError, match="empty key part"):
        make_key("users", "")


def test_raw_client_is_the_cache_client() -> None:
    """One set of connections (and timeouts) for the cache and direct commands."""
    assert get_client() is cast(RedisCache, cache).client.get_client(write=True)


@pytest.mark.redis
@pytest.mark.standalone
def test_stalled_redis_fails_fast_instead_of_retrying(redis_client: redis.Redis) -> None:
    """A stall longer than the socket timeout raises; a retry loop would wait it out."""
    admin = redis.Redis(connection_pool=redis.ConnectionPool.from_url(settings.REDIS_URL))
    admin.execute_command("CLIENT", "PAUSE", 1500, "ALL")
    try:
        with pytest.raises(redis.TimeoutError):
            get_client().get("anything")
    finally:
        admin.execute_command("CLIENT", "UNPAUSE")
        admin.close()
    assert get_client().ping()  # the pool recovers on the next command


@pytest.mark.redis
def test_cached_values_are_json_not_pickle(redis_client: redis.Redis) -> None:
    cache.set("probe", {"name": "Zoë", "ids": [1, 2]})
    stored = redis_client.get(cache.make_key("probe"))
    assert stored is not None
    assert json.loads(stored) == {"name": "Zoë", "ids": [1, 2]}
