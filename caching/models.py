"""A monotonic version column for models whose cache entries are written through, and the
changes recorded for Redis while it could not be reached."""

from __future__ import annotations

from typing import Any

from django.db import models, router, transaction
from django.db.models import F
from django.db.models.expressions import Combinable
from django.dispatch import Signal

# Sent inside the transaction of a queryset ``update()`` of a VersionedModel (also
# ``bulk_update()``, which updates through it), with ``pks``, ``using`` and the ``fields``
# it set: queryset writes send no post_save, so the cache registry (and any index kept
# from these rows) listens to this instead.
rows_updated = Signal()


class VersionedQuerySet(models.QuerySet[Any]):
    """``update()`` (and an upserting ``bulk_create()``) that bumps ``version`` and tells
    the cache which rows it changed."""

    def update(self, **kwargs: Any) -> int:
        with transaction.atomic(using=self.db):
            # The rows as of now, locked by the UPDATE below until commit: exactly these
            # are changed and reported, whatever else comes to match the filter meanwhile.
            pks = list(self.values_list("pk", flat=True))
            if not pks:
                return 0
            kwargs.setdefault("version", F("version") + 1)
            rows = self.model._base_manager.using(self.db).filter(pk__in=pks)
            count = models.QuerySet.update(rows, **kwargs)
            rows_updated.send(sender=self.model, pks=pks, using=self.db, fields=set(kwargs))
        return count

    update.alters_data = True  # type: ignore[attr-defined]

    def bulk_create(self, objs: Any, *args: Any, **kwargs: Any) -> list[Any]:
        """``bulk_create()``; with ``update_conflicts=True`` the rows it updated (it sends
        no signals, and its ``ON CONFLICT DO UPDATE`` cannot bump ``version``) get their
        version bumped and are reported like an ``update()``, in the same transaction."""
        if not kwargs.get("update_conflicts"):
            return super().bulk_create(objs, *args, **kwargs)
        with transaction.atomic(using=self.db):
            created = super().bulk_create(objs, *args, **kwargs)
            pks = [obj.pk for obj in created if obj.pk is not None]
            if len(pks) < len(created):  # a backend that returns no ids: find them
                unique = kwargs.get("unique_fields") or ()
                match = models.Q()
                for obj in created:
                    match |= models.Q(**{name: getattr(obj, name) for name in unique})
                rows = self.model._base_manager.using(self.db).filter(match)
                pks = list(rows.values_list("pk", flat=True))
            VersionedQuerySet(self.model, using=self.db).filter(pk__in=pks).update()
        return created

    bulk_create.alters_data = True  # type: ignore[attr-defined]


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


class PendingInvalidation(models.Model):
    """A cache change (``caching.changes.Change``) recorded in the writer's transaction
    because Redis could not be told; any process applies it once Redis answers."""

    kind = models.CharField(max_length=8)
    key = models.CharField(max_length=512, blank=True)
    version = models.PositiveBigIntegerField(default=0)
    ttl = models.PositiveIntegerField(default=3600)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        ordering = ["id"]

    def __str__(self) -> str:
        return f"{self.kind} {self.key} v{self.version}"
