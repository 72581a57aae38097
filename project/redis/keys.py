"""The key grammar: ``{prefix}:{app}:{entity}[:{id}][:{facet}]`` (docs/architecture.md, Keys).

Each app has one key builder (its ``keys.py``) made of these two functions; nothing builds
a key inline. The prefix is read at call time so that tests and tenants can change it.
"""

from __future__ import annotations

from django.conf import settings


def make_key(app: str, entity: str, *rest: str | int) -> str:
    """``{prefix}:{app}:{entity}[:...]``; an empty part is a bug, not a key."""
    parts = [settings.REDIS_KEY_PREFIX, app, entity, *(str(part) for part in rest)]
    if any(part == "" for part in parts):
        raise ValueError(f"empty key part in {parts!r}")
    return ":".join(parts)


def hash_tag(*parts: str | int) -> str:
    """``{a:b}``: keys carrying the same tag share a Redis Cluster slot, so one script or
    transaction may touch them all. An empty tag would be no tag at all (Cluster hashes
    the whole key of ``{}``), so an empty part is refused like in :func:`make_key`."""
    texts = [str(part) for part in parts]
    if not texts or any(text == "" for text in texts):
        raise ValueError(f"empty hash tag part in {texts!r}")
    return "{" + ":".join(texts) + "}"
