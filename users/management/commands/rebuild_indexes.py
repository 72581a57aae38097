"""``manage.py rebuild_indexes``: rebuild the tag sets and the leaderboard from the database."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from redis import RedisError

from users import leaderboard, tags


class Command(BaseCommand):
    help = "Rebuild the Redis tag index and leaderboard from the database."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            tagged = tags.rebuild()
            ranked = leaderboard.rebuild()
        except RedisError as exc:
            # The leaderboard is built aside and renamed; the tag sets are rewritten in place,
            # so they may be partial until a run succeeds (the database is untouched).
            raise CommandError(
                f"Redis unavailable ({exc}): the tag index may be partial; run it again once "
                "Redis answers"
            ) from exc
        self.stdout.write(f"tags: {tagged} indexed; leaderboard: {ranked} users")
