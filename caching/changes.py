"""What a write changes in the cache, as data, and how each change is applied in Redis.
Marked before the commit, applied after it, recorded in the database when Redis cannot
be told (``caching/recovery.py``).

- ``entry``: a tombstone at ``version`` over the entry (a newer cached value is kept), and
  its lease voided: readers go to the database, fills of older rows are refused;
- ``reset``: the entry and its lease deleted, whatever their version (after ``loaddata``
  or for a model without versions: the row in the database may be older than the cache);
- ``tag``: the tag's generation bumped; ``all``: every group's generation bumped.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal

from redis import Redis
from redis.client import Pipeline

from caching import keys, scripts
from caching.entries import DELETED
from project.redis.scripts import batch as scripts_batch

Kind = Literal["entry", "reset", "tag", "all"]
HOLD = DELETED - 1  # a tombstone refusing every fill, until a reset replaces it


@dataclass(frozen=True)
class Change:
    kind: Kind
    key: str = ""  # the entry key, or the tag's name
    version: int = 0
    ttl: int = 3600  # seconds a tombstone lives: at least as long as the entry would


def entry(key: str, version: int, ttl: int) -> Change:
    return Change("entry", key, version, ttl)


def reset(key: str) -> Change:
    return Change("reset", key)


def tag(name: str) -> Change:
    return Change("tag", name)


EVERYTHING = Change("all")


def apply(client: Redis, changes: Sequence[Change]) -> None:
    """Apply ``changes`` in one pipeline (on a Cluster one by one, each on one slot);
    raises RedisError. Each is idempotent: applying one twice is harmless."""
    batch = scripts_batch(client)
    for item in changes:
        if item.kind == "entry":
            lease = keys.lease(item.key)
            scripts.invalidate(batch, item.key, lease, ttl_ms=item.ttl * 1000, version=item.version)
        elif item.kind == "reset":
            batch.delete(item.key, keys.lease(item.key))
        elif item.kind == "tag":
            scripts.generation(batch, keys.tag_generation(item.key), bump=True)
        else:
            for counter in keys.group_generations():
                scripts.generation(batch, counter, bump=True)
    if isinstance(batch, Pipeline):
        batch.execute()
