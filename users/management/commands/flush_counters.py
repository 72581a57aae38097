"""``manage.py flush_counters``: apply the write-back counts to the database."""

from __future__ import annotations

import time
from typing import Any

from django.core.management.base import BaseCommand, CommandError
from redis import RedisError

from project.locks.lock import FencedOutError, LockNotAcquiredError
from users import counters
from users.management.commands import _progress

# The flush applies everything it claimed in one transaction: it can say which step it is
# at (its hooks run just before and just after the commit), not how far into the UPDATE.
STEPS = (
    "flush_counters: claiming and applying the counts",
    "flush_counters: committing",
    "flush_counters: dropping the claim",
)


class Command(BaseCommand):
    help = (
        "Flush profile views and login counts from Redis to the database (exactly once); "
        "prints one line with the counts."
    )

    def handle(self, *args: Any, **options: Any) -> None:
        verbosity = options["verbosity"]
        began = time.monotonic()
        try:
            with _progress.steps(self, verbosity=verbosity, names=STEPS) as next_step:
                result = counters.flush(before_commit=next_step, after_commit=next_step)
        except (LockNotAcquiredError, FencedOutError) as exc:
            raise CommandError(str(exc)) from exc
        except RedisError as exc:
            # What was claimed stays claimed in Redis and is applied by the next run, once.
            raise CommandError(
                f"Redis unavailable ({exc}): no count was lost; run it again once Redis answers"
            ) from exc
        if verbosity == 0:
            return
        took = f"in {time.monotonic() - began:.1f} s"
        if result.reapplied:
            self.stdout.write(
                f"flush_counters: dropped a claim an earlier flush had applied, applying "
                f"nothing twice, {took}"
            )
        else:
            self.stdout.write(
                f"flush_counters: flushed {result.increments} increments for {result.users} "
                f"users {took}"
            )
