from __future__ import annotations

from django.db import models


class Fence(models.Model):
    """The highest fencing number that has written under a lock (``project.locks.lock``)."""

    name = models.CharField(max_length=100, primary_key=True)
    value = models.BigIntegerField(default=0)

    def __str__(self) -> str:
        return f"{self.name}: {self.value}"
