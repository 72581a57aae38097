"""The users app's background jobs: the write-back flush and the index repair on a
schedule, and the welcome mail of every new user (``jobs``, docs/tasks.md)."""

from __future__ import annotations

import logging

from django.core.mail import send_mail
from django.db import transaction
from django_tasks import task

from jobs import schedule
from jobs.services import once
from project.locks.lock import LockNotAcquiredError
from users import counters, indexes
from users.models import User

logger = logging.getLogger("users")


@schedule.every("COUNTER_FLUSH_SECONDS")
@task()
def flush_counters() -> dict[str, int]:
    """Apply the counted views and logins to the database (exactly once, by its claim)."""
    try:
        result = counters.flush(lock_timeout=0)
    except LockNotAcquiredError:  # a flush is running: it applies what this one would
        return {"users": 0, "increments": 0}
    if result.increments:
        logger.info("counters: flushed %d increments for %d users", result.increments, result.users)
    return {"users": result.users, "increments": result.increments}


@schedule.every("INDEX_REPAIR_SECONDS")
@task()
def repair_indexes() -> int:
    """Converge the tag index and the leaderboard on the database."""
    return indexes.repair()


@task()
def send_welcome(user_id: int) -> bool:
    """Welcome a new user by mail, once: the mail is recorded sent in the transaction that
    sends it, so a redelivered job finds the record (a mail whose sending failed rolls the
    record back, and the retry sends it)."""
    user = User.objects.filter(pk=user_id).first()
    if user is None or not user.email:
        return False
    with transaction.atomic():
        if not once(f"welcome:{user_id}"):
            return False
        send_mail(
            subject=f"Welcome, {user.username}!",
            message=(
                f"Hello {user.full_name or user.username},\n\n"
                "your account is ready. Sign in with your username and password.\n"
            ),
            from_email=None,
            recipient_list=[user.email],
        )
    logger.info("welcome mail sent to user %d", user_id)
    return True
