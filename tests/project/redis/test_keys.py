"""The key grammar ``{prefix}:{app}:{entity}[:...]`` and hash tags that pin keys to a slot."""

from __future__ import annotations

from typing import Any

import pytest
from redis.crc import key_slot

from project.redis.keys import hash_tag, make_key


def test_a_key_joins_prefix_app_entity_and_the_rest_with_colons() -> None:
    assert make_key("users", "user") == "app:users:user"
    assert make_key("users", "user", 42, "views") == "app:users:user:42:views"


def test_the_prefix_is_read_when_the_key_is_built(settings: Any) -> None:
    """Tests and tenants change the prefix after import."""
    settings.REDIS_KEY_PREFIX = "tenant7"
    assert make_key("users", "user", 1) == "tenant7:users:user:1"
    settings.REDIS_KEY_PREFIX = "tenant8"
    assert make_key("users", "user", 1) == "tenant8:users:user:1"


@pytest.mark.parametrize(
    "parts", [("", "user"), ("users", ""), ("users", "user", ""), ("users", "user", 1, "")]
)
def test_an_empty_part_is_refused(parts: tuple[Any, ...]) -> None:
    with pytest.raises(ValueError, match="empty key part"):
        make_key(*parts)


def test_an_empty_prefix_is_refused(settings: Any) -> None:
    settings.REDIS_KEY_PREFIX = ""
    with pytest.raises(ValueError, match="empty key part"):
        make_key("users", "user")


def test_a_hash_tag_wraps_its_parts_in_braces() -> None:
    assert hash_tag("user", 42) == "{user:42}"
    assert hash_tag("leaderboard") == "{leaderboard}"
    assert make_key("cache", hash_tag("user", 42), "profile") == "app:cache:{user:42}:profile"


def test_keys_with_one_hash_tag_share_a_cluster_slot() -> None:
    """So one script or transaction may touch them all on Redis Cluster."""
    entry = make_key("cache", hash_tag("user", 42), "profile", "v1")
    lease = f"{entry}:lease"
    other = make_key("cache", hash_tag("user", 43), "profile", "v1")

    assert key_slot(entry.encode()) == key_slot(lease.encode()) == key_slot(b"user:42")
    assert key_slot(other.encode()) == key_slot(b"user:43") != key_slot(b"user:42")


def test_an_empty_hash_tag_is_refused_like_an_empty_key_part() -> None:
    with pytest.raises(ValueError, match="empty"):
        hash_tag("")
