"""The lock keys: a lock and its fence counter share a hash tag (one Cluster slot)."""

from __future__ import annotations

from project.redis.keys import hash_tag, make_key

APP = "locks"


def lock(name: str) -> str:
    """``{prefix}:locks:{<name>}``: the holder's token, always with a TTL."""
    return make_key(APP, hash_tag(name))


def fence(name: str) -> str:
    """``{prefix}:locks:{<name>}:fence``: permanent, so the numbers only ever increase."""
    return make_key(APP, hash_tag(name), "fence")
