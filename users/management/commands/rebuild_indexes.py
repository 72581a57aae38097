"""``manage.py rebuild_indexes``: rebuild the tag sets and the leaderboard from the database."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand

from users import leaderboard, tags


class Command(BaseCommand):
    help = "Rebuild the Redis tag index and leaderboard from the database."

    def handle(self, *args: Any, **options: Any) -> None:
        tagged = tags.rebuild()
        ranked = leaderboard.rebuild()
        self.stdout.write(f"tags: {tagged} indexed; leaderboard: {ranked} users")
