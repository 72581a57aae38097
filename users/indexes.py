"""Keep the Redis indexes of users (leaderboard, tags) in step with every database write
that changes them, after its commit: the API, the admin, querysets, deletions.

Each index update re-reads the database (``leaderboard.resync``, ``tags.reindex``), so
updates from any path converge on what committed; Redis failing is logged, and
``rebuild_indexes`` repairs.
"""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete, post_save
from redis import RedisError

from caching.models import rows_updated
from users import leaderboard, tags
from users.models import User, UserTag


def on_user_saved(sender: type, instance: User, **kwargs: Any) -> None:
    fields = kwargs.get("update_fields")
    if fields is None or "points" in fields:
        user_id = instance.pk
        transaction.on_commit(lambda: leaderboard.resync([user_id]), using=kwargs.get("using"))


def on_rows_updated(sender: type, pks: list[Any], using: str, **kwargs: Any) -> None:
    if "points" in kwargs.get("fields", ()):
        transaction.on_commit(lambda: leaderboard.resync(pks), using=using)


def on_tag_changed(sender: type, instance: UserTag, **kwargs: Any) -> None:
    user_id, tag = instance.user_id, instance.tag
    removed = [tag] if kwargs.get("signal") is post_delete else []
    transaction.on_commit(lambda: tags.reindex(user_id, removed=removed), using=kwargs.get("using"))


def on_user_deleted(sender: type, instance: User, **kwargs: Any) -> None:
    user_id = instance.pk

    def drop() -> None:
        try:
            leaderboard.remove(user_id)
            tags.unindex_user(user_id)
        except RedisError:  # rebuild_indexes repairs
            leaderboard.logger.exception("indexes: could not drop deleted user %d", user_id)

    transaction.on_commit(drop, using=kwargs.get("using"))


def connect() -> None:
    post_save.connect(on_user_saved, sender=User, dispatch_uid="users.indexes.save")
    rows_updated.connect(on_rows_updated, sender=User, dispatch_uid="users.indexes.rows")
    post_save.connect(on_tag_changed, sender=UserTag, dispatch_uid="users.indexes.tag_save")
    post_delete.connect(on_tag_changed, sender=UserTag, dispatch_uid="users.indexes.tag_delete")
    post_delete.connect(on_user_deleted, sender=User, dispatch_uid="users.indexes.delete")


def repair(*, batch: int = 500) -> int:
    """Compare every user's tags and points in Redis with the database and reindex those
    that drifted (a write whose index update failed, Redis losing data); the number
    repaired. Redis failing raises: the periodic job is retried."""
    from project.redis.client import get_client
    from users import keys

    client = get_client()
    repaired = 0
    last = 0
    while True:
        users = list(
            User.objects.filter(pk__gt=last).order_by("pk").values_list("pk", "points")[:batch]
        )
        if not users:
            return repaired
        last = users[-1][0]
        ids = [pk for pk, _ in users]
        held: dict[int, set[str]] = {pk: set() for pk in ids}
        for user_id, tag in UserTag.objects.filter(user_id__in=ids).values_list("user_id", "tag"):
            held[user_id].add(tag)
        pipe = client.pipeline(transaction=False)
        for pk in ids:
            pipe.smembers(keys.user_tags(pk))
            pipe.zscore(keys.leaderboard(), leaderboard.member(pk))
        replies = pipe.execute()
        for (pk, points), indexed, score in zip(users, replies[::2], replies[1::2], strict=True):
            indexed_tags = {tag.decode() for tag in indexed}
            if indexed_tags != held[pk]:
                tags.reindex(pk, removed=indexed_tags - held[pk])
                repaired += 1
            if score is None or int(score) != points:
                leaderboard.resync([pk])
                repaired += 1
