"""User tags: rows in the database (``UserTag``), sets in Redis as the index.

The index is written after every commit that changes a user's tags, from the database as
it then is (``reindex``), and can be rebuilt from it at any time (``manage.py
rebuild_indexes``). Intersections and unions over several users read each
user's set in one pipelined round trip and combine them here: one user's set lives in
that user's Cluster slot, so a server-side ``SINTER`` across users would cross slots.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from typing import cast

from django.db import transaction
from redis import Redis, RedisError

from project.redis.client import get_client
from users import keys
from users.models import User, UserTag

logger = logging.getLogger("users")

MAX_TAGS = 20


def tags_of(user: User) -> list[str]:
    return list(user.tags.values_list("tag", flat=True))


def set_tags(*, user: User, tags: Iterable[str]) -> list[str]:
    """Replace the user's tags (validated slugs); the index follows on commit."""
    wanted = sorted(set(tags))
    with transaction.atomic():
        # The user's row lock orders tag writes of one user, and their reindexing below.
        list(User.objects.select_for_update().filter(pk=user.pk).values_list("pk"))
        current = set(UserTag.objects.filter(user=user).values_list("tag", flat=True))
        UserTag.objects.filter(user=user).exclude(tag__in=wanted).delete()
        UserTag.objects.bulk_create([UserTag(user=user, tag=t) for t in wanted if t not in current])
        removed = current - set(wanted)
        transaction.on_commit(lambda: reindex(user.pk, removed=removed))
    return wanted


def reindex(user_id: int, *, removed: Iterable[str] = ()) -> None:
    """Make the user's index what the database holds now (after any write of their tags:
    the API, the admin). Read under the user's row lock, so that two reindexings land in
    commit order whichever callback runs first. ``removed``: tags known to be gone (the
    user's own set may have been lost). Redis failing is logged: the database has the
    change, and ``rebuild_indexes`` or the user's next write repairs the index."""
    try:
        with transaction.atomic():
            exists = User.objects.select_for_update().filter(pk=user_id).exists()
            tags = set(UserTag.objects.filter(user_id=user_id).values_list("tag", flat=True))
            client = get_client()
            indexed = {
                m.decode() for m in cast("set[bytes]", client.smembers(keys.user_tags(user_id)))
            }
            pipe = client.pipeline(transaction=False)
            for tag in (indexed | set(removed)) - tags:
                pipe.srem(keys.tag_users(tag), user_id)
            for tag in tags if exists else ():
                pipe.sadd(keys.tag_users(tag), user_id)
            pipe.delete(keys.user_tags(user_id))
            if tags and exists:
                pipe.sadd(keys.user_tags(user_id), *tags)
            pipe.execute()
    except RedisError as exc:
        logger.error("tags: user %d not reindexed (rebuild_indexes repairs): %s", user_id, exc)


def unindex_user(user_id: int) -> None:
    """Drop a deleted user from every tag set (on commit of the deletion)."""
    client = get_client()
    tags = cast("set[bytes]", client.smembers(keys.user_tags(user_id)))  # no decode_responses
    pipe = client.pipeline(transaction=False)
    for tag in tags:
        pipe.srem(keys.tag_users(tag.decode()), user_id)
    pipe.delete(keys.user_tags(user_id))
    pipe.execute()


def users_with(tag: str, *, client: Redis | None = None) -> list[int]:
    return sorted(int(m) for m in (client or get_client()).smembers(keys.tag_users(tag)))


def combined(user_ids: list[int], *, union: bool, client: Redis | None = None) -> list[str]:
    """The tags all of ``user_ids`` share (or, with ``union``, any of them has)."""
    pipe = (client or get_client()).pipeline(transaction=False)
    for user_id in user_ids:
        pipe.smembers(keys.user_tags(user_id))
    sets = [{m.decode() for m in members} for members in pipe.execute()]
    if not sets:
        return []
    merged = set.union(*sets) if union else set.intersection(*sets)
    return sorted(merged)


def rebuild(*, client: Redis | None = None) -> int:
    """Rebuild the tag index from the database; returns the number of tag rows indexed.
    Admin tooling, the only place the project SCANs (never KEYS): it finds the old tag sets."""
    client = client or get_client()
    for key in client.scan_iter(match=keys.tag_users_pattern(), count=500):
        client.delete(key)
    by_user: dict[int, list[str]] = {}
    for user_id, tag in UserTag.objects.values_list("user_id", "tag").iterator():
        by_user.setdefault(user_id, []).append(tag)
    pipe = client.pipeline(transaction=False)
    for user_id in User.objects.values_list("pk", flat=True).iterator():
        pipe.delete(keys.user_tags(user_id))
        if user_id in by_user:
            pipe.sadd(keys.user_tags(user_id), *by_user[user_id])
            for tag in by_user[user_id]:
                pipe.sadd(keys.tag_users(tag), user_id)
    pipe.execute()
    return sum(len(t) for t in by_user.values())
