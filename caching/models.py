"""A monotonic version column for models whose cache entries are written through."""

from __future__ import annotations

from typing import Any

from django.db import models, router, transaction
from django.db.models import F
from django.db.models.expressions import Combinable


class VersionedModel(models.Model):
    """Bump ``version`` in the database on every update.

    The increment runs in SQL (``version = version + 1``), so two concurrent writers of
    one row get distinct versions in commit order; a cache write carrying an older
    version than the one cached is then refused (write-through reordering).
    """

    version = models.PositiveBigIntegerField(default=1, editable=False)

    class Meta:
        abstract = True

    def save(self, *args: Any, **kwargs: Any) -> None:
        if self._state.adding:
            super().save(*args, **kwargs)
            return
        self.version = F("version") + 1
        if kwargs.get("update_fields") is not None:
            kwargs["update_fields"] = {*kwargs["update_fields"], "version"}
        using = kwargs.get("using") or router.db_for_write(type(self), instance=self)
        # One transaction: the row stays locked between the UPDATE and reading the version
        # back, so the number read is this write's, not a later writer's.
        with transaction.atomic(using=using):
            super().save(*args, **kwargs)
            resolve_version(self)


def resolve_version(instance: models.Model) -> int:
    """The saved version of ``instance`` (reading it back after an ``F()`` increment)."""
    version = getattr(instance, "version", 0)
    if isinstance(version, Combinable):
        instance.refresh_from_db(fields=["version"])
        version = getattr(instance, "version", 0)
    return int(version)
