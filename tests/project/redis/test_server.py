"""The server settings that can cost the project data, read from a real redis-server."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import redis

from project.redis import server
from tests.own_redis import SnapshotRedis

pytestmark = pytest.mark.redis


@pytest.fixture
def own(snapshot_server: SnapshotRedis) -> Iterator[redis.Redis]:
    client = snapshot_server.client()
    client.config_set("appendonly", "yes")  # persistent: only eviction is in question
    yield client
    client.config_set("appendonly", "no")  # its rewrite would fail the shutdown


@pytest.mark.parametrize("policy", ["allkeys-lru", "allkeys-lfu", "allkeys-random"])
def test_a_policy_that_evicts_any_key_is_a_warning(own: redis.Redis, policy: str) -> None:
    own.config_set("maxmemory", 1 << 30)
    own.config_set("maxmemory-policy", policy)
    (warning,) = server.warnings(own)
    assert policy in warning
    assert "volatile-lru or noeviction" in warning


@pytest.mark.parametrize("policy", ["volatile-lru", "volatile-ttl", "noeviction"])
def test_a_policy_that_spares_keys_without_ttl_is_fine(own: redis.Redis, policy: str) -> None:
    own.config_set("maxmemory", 1 << 30)
    own.config_set("maxmemory-policy", policy)
    assert server.warnings(own) == []


def test_no_maxmemory_evicts_nothing(own: redis.Redis) -> None:
    own.config_set("maxmemory", 0)
    own.config_set("maxmemory-policy", "allkeys-lru")
    assert server.warnings(own) == []


def test_a_server_without_persistence_is_a_warning(own: redis.Redis) -> None:
    own.config_set("appendonly", "no")
    own.config_set("save", "")
    (warning,) = server.warnings(own)
    assert "no persistence" in warning
    own.config_set("save", "3600 1")
    assert server.warnings(own) == []
