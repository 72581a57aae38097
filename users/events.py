"""User events, published after commit through the database outbox (``jobs``, so that a
process dying after its commit loses none; ``project.events`` delivers them): created,
updated (with the names of the changed fields, never their values), deleted, logged in,
logged out."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.signals import user_logged_in, user_logged_out
from django.db.models.signals import post_delete, post_save

from jobs.services import publish_on_commit
from project.events.envelope import Event
from project.events.registry import declare
from users.models import User

TOPIC = "users"
TYPES = ("user.created", "user.updated", "user.deleted", "user.logged_in", "user.logged_out")
# Bookkeeping that changes on every save or login: not news.
UNREPORTED = {"updated_at", "version", "last_login"}

declare(*TYPES)  # the listener skips (and counts) events of any other type


def on_save(sender: type, instance: User, created: bool, **kwargs: Any) -> None:
    if created:
        event = Event("user.created", instance.pk, {"username": instance.username})
    else:
        changed = sorted(set(instance.changed_fields()) - UNREPORTED)
        if not changed:
            return
        event = Event("user.updated", instance.pk, {"changed": changed})
    publish_on_commit(TOPIC, event, using=kwargs.get("using"))


def on_delete(sender: type, instance: User, **kwargs: Any) -> None:
    publish_on_commit(TOPIC, Event("user.deleted", instance.pk), using=kwargs.get("using"))


def on_login(sender: type, request: Any, user: User, **kwargs: Any) -> None:
    publish_on_commit(TOPIC, Event("user.logged_in", user.pk))


def on_logout(sender: type, request: Any, user: User | None, **kwargs: Any) -> None:
    if user is not None:
        publish_on_commit(TOPIC, Event("user.logged_out", user.pk))


def connect() -> None:
    post_save.connect(on_save, sender=User, dispatch_uid="users.events.save")
    post_delete.connect(on_delete, sender=User, dispatch_uid="users.events.delete")
    user_logged_in.connect(on_login, dispatch_uid="users.events.login")
    user_logged_out.connect(on_logout, dispatch_uid="users.events.logout")
