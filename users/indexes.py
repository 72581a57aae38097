"""Keep the Redis indexes of users in step with deletions (after commit)."""

from __future__ import annotations

from typing import Any

from django.db import transaction
from django.db.models.signals import post_delete
from redis import RedisError

from users import leaderboard, tags
from users.models import User


def on_delete(sender: type, instance: User, **kwargs: Any) -> None:
    user_id = instance.pk

    def drop() -> None:
        try:
            leaderboard.remove(user_id)
            tags.unindex_user(user_id)
        except RedisError:  # rebuild_indexes repairs
            leaderboard.logger.exception("indexes: could not drop deleted user %d", user_id)

    transaction.on_commit(drop, using=kwargs.get("using"))


def connect() -> None:
    post_delete.connect(on_delete, sender=User, dispatch_uid="users.indexes.delete")
