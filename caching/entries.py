"""What a cache entry is: a Redis hash, and the values the service hands back.

Fields: ``d`` the JSON value (absent in a tombstone), ``v`` the version of the data, ``g``
the global generation and ``t:<tag>`` each tag's generation when it was written. An entry
counts only while its generations are still current.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any, Literal

from django.core.serializers.json import DjangoJSONEncoder

Status = Literal["HIT", "MISS", "BYPASS"]
DELETED = 2**53  # the version of a deletion tombstone: above any real version


@dataclass(frozen=True)
class Versioned:
    """What a loader returns when its data has a version (e.g. a VersionedModel row)."""

    data: Any
    version: int


@dataclass(frozen=True)
class Result:
    value: Any  # None: the loader found nothing
    status: Status


Loader = Callable[[], Any]


def unwrap(loaded: Any) -> tuple[Any, int]:
    """``(data, version)`` of what a loader returned; unversioned data has version 0."""
    if isinstance(loaded, Versioned):
        return loaded.data, loaded.version
    return loaded, 0


def encode(
    data: Any, generation: int, tags: Sequence[str], tag_generations: Sequence[int]
) -> dict[str, str | int]:
    """The hash fields of an entry holding ``data`` (its version is the script's ARGV)."""
    fields: dict[str, str | int] = {
        "d": json.dumps(data, cls=DjangoJSONEncoder, separators=(",", ":")),
        "g": generation,
    }
    for tag, current in zip(tags, tag_generations, strict=True):
        fields[f"t:{tag}"] = current
    return fields


def decode(
    entry: dict[bytes, bytes], generation: int, tags: Sequence[str], tag_generations: Sequence[int]
) -> Any:
    """The entry's value if it holds one written under the current generations, else None."""
    if b"d" not in entry or int(entry.get(b"g", -1)) != generation:
        return None
    for tag, current in zip(tags, tag_generations, strict=True):
        if int(entry.get(f"t:{tag}".encode(), -1)) != current:
            return None
    return json.loads(entry[b"d"])
