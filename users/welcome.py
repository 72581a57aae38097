"""Every new user gets a welcome mail, however created (the API, the admin,
``create_user``, ``createsuperuser``): enqueued with the user's row, sent after commit."""

from __future__ import annotations

from typing import Any

from django.db.models.signals import post_save

from jobs.services import enqueue_on_commit
from users.models import User


def on_user_created(sender: type, instance: User, created: bool, **kwargs: Any) -> None:
    if created and not kwargs.get("raw"):  # loaddata is not a sign-up
        from users.tasks import send_welcome

        enqueue_on_commit(send_welcome, instance.pk, using=kwargs.get("using"))


def connect() -> None:
    post_save.connect(on_user_created, sender=User, dispatch_uid="users.welcome")
