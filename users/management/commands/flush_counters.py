"""``manage.py flush_counters``: apply the write-back counts to the database."""

from __future__ import annotations

from typing import Any

from django.core.management.base import BaseCommand, CommandError
from redis import RedisError

from project.locks.lock import FencedOutError, LockNotAcquiredError
from users import counters


class Command(BaseCommand):
    help = "Flush profile views and login counts from Redis to the database (exactly once)."

    def handle(self, *args: Any, **options: Any) -> None:
        try:
            result = counters.flush()
        except (LockNotAcquiredError, FencedOutError) as exc:
            raise CommandError(str(exc)) from exc
        except RedisError as exc:
            # What was claimed stays claimed in Redis and is applied by the next run, once.
            raise CommandError(
                f"Redis unavailable ({exc}): no count was lost; run it again once Redis answers"
            ) from exc
        if result.reapplied:
            self.stdout.write("dropped a claim an earlier flush had applied")
        self.stdout.write(f"flushed {result.increments} increments for {result.users} users")
