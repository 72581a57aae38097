"""The outbox of jobs enqueued inside a transaction, and the record of effects done once."""

from __future__ import annotations

import uuid

from django.db import models
from django.utils import timezone


class OutboxJob(models.Model):
    """A job enqueued, or an event published, inside a transaction: written in it, handed
    to the queue (or published) after the commit, deleted once Redis has it. A row that
    stays was not handed off (Redis was down, or the process died first): the relay hands
    it off later."""

    id = models.UUIDField(primary_key=True, default=uuid.uuid4, editable=False)
    task = models.CharField(max_length=200, blank=True, help_text="the task's module path")
    topic = models.CharField(
        max_length=100, blank=True, help_text="an event's topic (the event is args[0])"
    )
    args = models.JSONField(default=list)
    kwargs = models.JSONField(default=dict)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    attempts = models.PositiveIntegerField(default=0, help_text="failed hand-offs")
    last_error = models.TextField(blank=True)

    class Meta:
        ordering = ["created_at"]
        verbose_name = "outbox job"

    def __str__(self) -> str:
        what = self.task or f"event on {self.topic}"
        return f"{what} ({self.created_at:%Y-%m-%d %H:%M:%S})"


class Done(models.Model):
    """An effect that must happen once (a mail): its key is inserted in the transaction that
    does it, so a job run twice (at least once) finds it there the second time."""

    key = models.CharField(max_length=200, primary_key=True)
    at = models.DateTimeField(default=timezone.now)

    class Meta:
        verbose_name_plural = "done"

    def __str__(self) -> str:
        return self.key
