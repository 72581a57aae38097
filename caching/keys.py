"""Every key the cache service uses, built here and nowhere else.

An entry and its lease share a hash tag, so the scripts that touch both stay in one
Cluster slot. Generation counters are the only permanent keys: one per tag, and
``GROUPS`` for "everything" (each entry belongs to one, by its key), so that the
generation every read fetches is not one hot key on one Cluster shard.
"""

from __future__ import annotations

import zlib
from functools import cache, lru_cache

from django.conf import settings

from project.redis.keys import hash_tag, make_key

GROUPS = 16

APP = "cache"


def entry(namespace: str, ident: str | int, facet: str, schema: int) -> str:
    """``{prefix}:cache:{<namespace>:<ident>}:<facet>:v<schema>``, a hash."""
    return make_key(APP, hash_tag(namespace, ident), facet, f"v{schema}")


def lease(entry_key: str) -> str:
    return f"{entry_key}:lease"


def tag_generation(tag: str) -> str:
    return _tag_generation(settings.REDIS_KEY_PREFIX, tag)


def group_generation(entry_key: str) -> str:
    """The "everything" generation of the group ``entry_key`` belongs to."""
    return _group(settings.REDIS_KEY_PREFIX, zlib.crc32(entry_key.encode()) % GROUPS)


def group_generations() -> list[str]:
    """Every group's generation: bumping them all drops everything."""
    return [_group(settings.REDIS_KEY_PREFIX, n) for n in range(GROUPS)]


# Every cached read builds these names: built once per prefix, bounded in number.
@lru_cache(maxsize=1024)
def _tag_generation(prefix: str, tag: str) -> str:
    return make_key(APP, "tag", hash_tag(tag))


@cache
def _group(prefix: str, n: int) -> str:
    """``{prefix}:cache:generation:{g:<n>}``, a counter."""
    return make_key(APP, "generation", hash_tag("g", n))


def stats() -> str:
    return make_key(APP, "stats")
