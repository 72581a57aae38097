"""Register a model with the cache: its cached views ("facets"), TTL and tags.

After a save or delete **commits**, each facet of the row is written through (models
with a ``version``, see :class:`caching.models.VersionedModel`) or invalidated, and the
model's tags are bumped. Nothing happens for a transaction that rolls back, and nothing
happens before the commit: a reader in between could otherwise cache the old committed
row again (django-cacheops#22). ``QuerySet.update()`` sends no signals
(django-cacheops#472): a VersionedQuerySet reports its rows (``rows_updated``), and
``CachedModel.bulk_update`` covers querysets of other models.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import models, router, transaction
from django.db.models import F
from django.db.models.signals import post_delete, post_save

from caching import keys
from caching.entries import DELETED, Result, Versioned
from caching.models import VersionedQuerySet, resolve_version, rows_updated
from caching.services import CacheService, cache_service

Serialize = Callable[[Any], dict[str, Any]]


@dataclass(frozen=True)
class Facet:
    """One cached view of a row: a JSON-able dict built by ``serialize``.

    Bump ``schema`` when the shape of the dict changes: old entries are simply not read.
    """

    serialize: Serialize
    schema: int = 1


@dataclass
class CachedModel:
    model: type[models.Model]
    namespace: str
    facets: dict[str, Facet]
    ttl: int
    tags: tuple[str, ...] = ()
    service: CacheService = field(default=cache_service)

    @property
    def versioned(self) -> bool:
        return any(f.name == "version" for f in self.model._meta.concrete_fields)

    def key(self, pk: Any, facet: str) -> str:
        return keys.entry(self.namespace, pk, facet, self.facets[facet].schema)

    def get(self, pk: int, facet: str) -> Result:
        """The facet of row ``pk``, cache-aside; ``Result.value`` is None if there is no row."""
        serialize = self.facets[facet].serialize

        def load() -> Versioned | None:
            row = self.model._default_manager.filter(pk=pk).first()
            return Versioned(serialize(row), resolve_version(row)) if row else None

        return self.service.get(self.key(pk, facet), load, ttl=self.ttl)

    # --- After commit -----------------------------------------------------------------

    def saved(self, instance: models.Model, *, using: str, update_fields: Any = None) -> None:
        """Schedule the cache update for a saved row; serialized now, written on commit.

        After ``save(update_fields=...)`` only those columns reached the database; the rest
        of the object may be older than the row (``update_last_login`` saves the object
        ``authenticate()`` loaded before a concurrent deactivation). So the row is read back
        here, inside the transaction, locked by the UPDATE: what commits is what is cached.
        """
        if update_fields is None:
            self._schedule_saved([instance], using=using)
        else:
            self._schedule_rows([instance.pk], using=using)

    def _schedule_rows(self, pks: Sequence[Any], *, using: str) -> None:
        rows = list(self.model._base_manager.using(using).filter(pk__in=pks))
        self._schedule_saved(rows, using=using)
        for pk in set(pks) - {row.pk for row in rows}:  # deleted meanwhile
            self.deleted(pk, using=using)

    def _schedule_saved(self, rows: list[models.Model], *, using: str) -> None:
        snapshots = [
            (row.pk, resolve_version(row), {n: f.serialize(row) for n, f in self.facets.items()})
            for row in rows
        ]
        transaction.on_commit(lambda: self._apply_saved(snapshots), using=using)

    def deleted(self, pk: Any, *, using: str, version: int = DELETED) -> None:
        """Schedule the invalidation of a row's facets (a deletion by default) on commit."""
        transaction.on_commit(lambda: self._apply_invalidated(pk, version), using=using)

    def _apply_saved(self, snapshots: list[tuple[Any, int, dict[str, dict[str, Any]]]]) -> None:
        if self.versioned:
            items = [
                (self.key(pk, name), data, version)
                for pk, version, facets in snapshots
                for name, data in facets.items()
            ]
            self.service.write_through_many(items, ttl=self.ttl)
        else:
            for pk, _, facets in snapshots:
                for name in facets:
                    self.service.invalidate(self.key(pk, name), ttl=self.ttl)
        self.service.invalidate_tags(self.tags)

    def _apply_invalidated(self, pk: Any, version: int) -> None:
        for name in self.facets:
            self.service.invalidate(self.key(pk, name), version=version, ttl=self.ttl)
        self.service.invalidate_tags(self.tags)

    # --- Bulk paths -------------------------------------------------------------------

    def bulk_update(self, queryset: models.QuerySet, **changes: Any) -> int:
        """``queryset.update(**changes)`` that keeps the cache right: versions bumped,
        each changed row's facets written through after commit. Returns the row count.
        (A VersionedQuerySet's own ``update()`` does this already.)"""
        if isinstance(queryset, VersionedQuerySet):
            return queryset.update(**changes)
        using = queryset.db
        with transaction.atomic(using=using):
            pks = list(queryset.values_list("pk", flat=True))
            rows = self.model._default_manager.using(using).filter(pk__in=pks)
            if self.versioned:
                changes = {**changes, "version": F("version") + 1}
            count = rows.update(**changes)
            # Re-read: the values and versions this transaction wrote; one cache update
            # for the batch after commit (two round trips, however many rows).
            self._schedule_saved(list(rows), using=using)
        return count


_registry: dict[type[models.Model], CachedModel] = {}


def register(
    model: type[models.Model],
    *,
    namespace: str,
    facets: dict[str, Facet],
    ttl: int,
    tags: Sequence[str] = (),
    service: CacheService = cache_service,
) -> CachedModel:
    """Cache ``model`` and keep it right on every committed save and delete."""
    cached = CachedModel(model, namespace, facets, ttl, tuple(tags), service)
    _registry[model] = cached

    def on_save(sender: type, instance: models.Model, **kwargs: Any) -> None:
        using = kwargs.get("using") or router.db_for_write(sender)
        if kwargs.get("raw"):  # loaddata: related rows may be missing, so do not serialize
            cached.deleted(instance.pk, using=using, version=getattr(instance, "version", 0))
        else:
            cached.saved(instance, using=using, update_fields=kwargs.get("update_fields"))

    def on_rows_updated(sender: type, pks: list[Any], using: str, **kwargs: Any) -> None:
        cached._schedule_rows(pks, using=using)

    def on_delete(sender: type, instance: models.Model, **kwargs: Any) -> None:
        cached.deleted(instance.pk, using=kwargs.get("using") or router.db_for_write(sender))

    uid = f"caching:{model._meta.label}"
    post_save.connect(on_save, sender=model, weak=False, dispatch_uid=uid)
    post_delete.connect(on_delete, sender=model, weak=False, dispatch_uid=uid)
    rows_updated.connect(on_rows_updated, sender=model, weak=False, dispatch_uid=uid)
    return cached


def cached_model(model: type[models.Model]) -> CachedModel:
    return _registry[model]
