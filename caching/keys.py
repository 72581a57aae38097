"""Every key the cache service uses, built here and nowhere else.

An entry and its lease share a hash tag, so the scripts that touch both stay in one
Cluster slot. Generation counters are the only permanent keys: one per tag plus one
global, a handful in all, and a counter that expired could repeat an old generation.
"""

from __future__ import annotations

from project.redis.keys import hash_tag, make_key

APP = "cache"


def entry(namespace: str, ident: str | int, facet: str, schema: int) -> str:
    """``{prefix}:cache:{<namespace>:<ident>}:<facet>:v<schema>``, a hash."""
    return make_key(APP, hash_tag(namespace, ident), facet, f"v{schema}")


def lease(entry_key: str) -> str:
    return f"{entry_key}:lease"


def tag_generation(tag: str) -> str:
    return make_key(APP, "tag", hash_tag(tag))


def global_generation() -> str:
    return make_key(APP, "generation")


def stats() -> str:
    return make_key(APP, "stats")
