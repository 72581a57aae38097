"""Memory per key family, from a sample: ``SCAN`` (never ``KEYS``) and ``MEMORY USAGE``.

A family is a key with its ids taken out (``app:sessions:{*}:index``). At most ``budget``
keys are looked at (the first the cursor gives, in batches of ``BATCH``), so a large
keyspace costs a bounded number of round trips; the dashboard scales counts and bytes up
to ``DBSIZE`` and says so.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from redis import Redis
from redis.cluster import RedisCluster

TAG = re.compile(r"\{[^}]*\}")
ID = re.compile(r"^(\d+|[0-9a-zA-Z_-]{16,})$")
BATCH = 200


@dataclass
class Family:
    name: str
    keys: int = 0
    bytes: int = 0
    sizes: list[int] = field(default_factory=list)  # HLEN of sampled hashes, for indexes


@dataclass
class Sample:
    families: list[Family]
    seen: int
    total: int

    @property
    def scale(self) -> float:
        return self.total / self.seen if self.seen else 0.0


def family_of(key: str) -> str:
    parts = TAG.sub("{*}", key).split(":")
    return ":".join("*" if ID.match(part) else part for part in parts[:6])


def sample(client: Redis, *, budget: int = 2000, sized: tuple[str, ...] = ()) -> Sample:
    """Up to ``budget`` keys' memory by family; for the families named in ``sized``, the
    number of fields of each sampled hash too (the per-user session lists)."""
    found: dict[str, Family] = {}
    seen = 0
    for batch in _batches(client, budget):
        pipe = client.pipeline(transaction=False)
        for key in batch:
            pipe.memory_usage(key)
        sizes = pipe.execute()
        wanted = [key for key in batch if family_of(key) in sized]
        if wanted:
            pipe = client.pipeline(transaction=False)
            for key in wanted:
                pipe.hlen(key)
            for key, length in zip(wanted, pipe.execute(), strict=True):
                found.setdefault(family_of(key), Family(family_of(key))).sizes.append(int(length))
        for key, size in zip(batch, sizes, strict=True):
            if size is None:  # gone between SCAN and MEMORY USAGE
                continue
            family = found.setdefault(family_of(key), Family(family_of(key)))
            family.keys += 1
            family.bytes += int(size)
            seen += 1
    total = _dbsize(client)
    ordered = sorted(found.values(), key=lambda f: f.bytes, reverse=True)
    return Sample(ordered, seen, max(total, seen))


def _batches(client: Redis, budget: int) -> list[list[str]]:
    keys: list[str] = []
    for raw in client.scan_iter(count=BATCH):
        keys.append(raw.decode() if isinstance(raw, bytes) else raw)
        if len(keys) >= budget:
            break
    return [keys[i : i + BATCH] for i in range(0, len(keys), BATCH)]


def _dbsize(client: Redis) -> int:
    reply = client.dbsize()
    if isinstance(client, RedisCluster) and isinstance(reply, dict):
        return sum(int(v) for v in reply.values())
    return int(reply)
