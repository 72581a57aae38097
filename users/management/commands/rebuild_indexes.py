"""``manage.py rebuild_indexes``: rebuild the tag sets and the leaderboard from the database."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from redis import RedisError

from project.redis.client import get_client
from users import leaderboard, tags
from users.management.commands import _progress
from users.models import User


class Command(BaseCommand):
    help = (
        "Rebuild the Redis tag index and leaderboard from the database (a progress bar per "
        "index on a terminal; one line with the counts at the end)."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = options["verbosity"]
        began = time.monotonic()
        try:
            client = get_client()
            client.ping()  # Redis down: say so before reading the database
            users = User.objects.count()
            # Each bar counts the users whose index entries Redis has taken, per batch.
            with _progress.bar(self, verbosity=verbosity, desc="tags", total=users) as bar:
                tagged = tags.rebuild(client=_progress.batched(client, bar, unit="delete"))
            with _progress.bar(self, verbosity=verbosity, desc="leaderboard", total=users) as bar:
                ranked = leaderboard.rebuild(client=_progress.batched(client, bar, unit="zadd"))
        except RedisError as exc:
            # The leaderboard is built aside and renamed; the tag sets are rewritten in place,
            # so they may be partial until a run succeeds (the database is untouched).
            raise CommandError(
                f"Redis unavailable ({exc}): the tag index may be partial; run it again once "
                "Redis answers"
            ) from exc
        if verbosity > 0:
            self.stdout.write(
                f"rebuild_indexes: {tagged} tags indexed, {ranked} users on the leaderboard "
                f"in {time.monotonic() - began:.1f} s"
            )
