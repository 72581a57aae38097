"""Register a model with the cache: its cached views ("facets"), TTL and tags.

A save or delete **marks** each facet of the row inside its transaction, before the
commit: a tombstone at the row's new version, so from then on readers go to the database
and a fill of the older row is refused, and the model's tags are bumped. If Redis cannot
be told, the write is refused in a request or recorded durably (``caching/policy.py``).
After the **commit**, each facet is written through (models with a ``version``, see
:class:`caching.models.VersionedModel`) and the tags bumped again (a reader could have
loaded the old rows between the mark and the commit, django-cacheops#22). A rollback
leaves only the marks: those rows are read from the database until the marks expire
(``MARK_SECONDS``).
``QuerySet.update()`` sends no signals (django-cacheops#472): a VersionedQuerySet reports
its rows (``rows_updated``), and ``CachedModel.bulk_update`` covers querysets of other
models.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from django.db import models, router, transaction
from django.db.models import F
from django.db.models.signals import post_delete, post_save

from caching import async_reads, keys
from caching import changes as change
from caching.changes import HOLD, Change
from caching.entries import DELETED, Result, Versioned
from caching.models import VersionedQuerySet, resolve_version, rows_updated
from caching.services import CacheService, cache_service

Serialize = Callable[[Any], dict[str, Any]]
# How long a mark lives: past any transaction's commit and its write-through. A rollback
# leaves the marks, so it also bounds how long those rows go uncached after one. (A fill
# can only land once its mark is gone; a later write-through replaces it with the commit.)
MARK_SECONDS = 30


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
        return self.service.get(self.key(pk, facet), lambda: self._load(pk, facet), ttl=self.ttl)

    async def aget(self, pk: int, facet: str) -> Result:
        """:meth:`get` from async code: a hit on redis.asyncio, the rest in a thread."""
        return await async_reads.read(
            self.service, self.key(pk, facet), lambda: self._load(pk, facet), ttl=self.ttl
        )

    def _load(self, pk: int, facet: str) -> Versioned | None:
        row = self.model._default_manager.filter(pk=pk).first()
        return Versioned(self.facets[facet].serialize(row), resolve_version(row)) if row else None

    # --- A write: marked before its commit, written through after it ----------------

    def saved(self, instance: models.Model, *, using: str, update_fields: Any = None) -> None:
        """Mark a saved row now; write it through on commit.

        After ``save(update_fields=...)`` only those columns reached the database; the rest
        of the object may be older than the row (``update_last_login`` saves the object
        ``authenticate()`` loaded before a concurrent deactivation). So the row is read back
        here, inside the transaction, locked by the UPDATE: what commits is what is cached.
        """
        if update_fields is None:
            self._changed([instance], using=using)
        else:
            self._changed_rows([instance.pk], using=using)

    def _changed_rows(self, pks: Sequence[Any], *, using: str) -> None:
        rows = list(self.model._base_manager.using(using).filter(pk__in=pks))
        self._changed(rows, using=using)
        for pk in set(pks) - {row.pk for row in rows}:  # deleted meanwhile
            self.deleted(pk, using=using)

    def _changed(self, rows: list[models.Model], *, using: str) -> None:
        if not self.versioned:  # no version to order writes by: hold, then drop
            self.reset([row.pk for row in rows], using=using)
            return
        snapshots = [
            (row.pk, resolve_version(row), {n: f.serialize(row) for n, f in self.facets.items()})
            for row in rows
        ]
        self._mark(
            [
                change.entry(self.key(pk, name), version, self._mark_ttl)
                for pk, version, facets in snapshots
                for name in facets
            ],
            using=using,
        )
        transaction.on_commit(lambda: self._write_through(snapshots, using=using), using=using)

    def deleted(self, pk: Any, *, using: str) -> None:
        """Mark a deleted row's facets (a tombstone refusing every version) now."""
        self._mark([change.entry(k, DELETED, self._mark_ttl) for k in self._keys(pk)], using=using)
        transaction.on_commit(lambda: self._committed([], using=using), using=using)

    def reset(self, pks: Sequence[Any], *, using: str) -> None:
        """Hold rows' facets now (no fill lands), drop them on commit whatever their version:
        for ``loaddata``, whose rows may be older than what is cached, and for models
        without a version."""
        entry_keys = [k for pk in pks for k in self._keys(pk)]
        self._mark([change.entry(k, HOLD, self._mark_ttl) for k in entry_keys], using=using)
        resets = [change.reset(k) for k in entry_keys]
        transaction.on_commit(lambda: self._committed(resets, using=using), using=using)

    @property
    def _mark_ttl(self) -> int:
        return min(self.ttl, MARK_SECONDS)

    def _keys(self, pk: Any) -> list[str]:
        return [self.key(pk, name) for name in self.facets]

    def _tags(self) -> list[Change]:
        return [change.tag(tag) for tag in self.tags]

    def _mark(self, marks: list[Change], *, using: str) -> None:
        # Outside a transaction the write has committed already: it can no longer be refused.
        committed = not transaction.get_connection(using).in_atomic_block
        self.service.submit([*marks, *self._tags()], using=using, committed=committed)

    def _write_through(
        self, snapshots: list[tuple[Any, int, dict[str, dict[str, Any]]]], *, using: str
    ) -> None:
        items = [
            (self.key(pk, name), data, version)
            for pk, version, facets in snapshots
            for name, data in facets.items()
        ]
        self.service.write_through_many(items, ttl=self.ttl)  # failing, it leaves the marks
        self._committed([], using=using)

    def _committed(self, changes: list[Change], *, using: str) -> None:
        self.service.submit([*changes, *self._tags()], using=using, committed=True)

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
            # Re-read: the values and versions this transaction wrote; one mark and one
            # write-through for the batch (a few round trips, however many rows).
            self._changed(list(rows), using=using)
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
        if kwargs.get("raw"):  # loaddata: maybe older than the cache; related rows may be missing
            cached.reset([instance.pk], using=using)
        else:
            cached.saved(instance, using=using, update_fields=kwargs.get("update_fields"))

    def on_rows_updated(sender: type, pks: list[Any], using: str, **kwargs: Any) -> None:
        cached._changed_rows(pks, using=using)

    def on_delete(sender: type, instance: models.Model, **kwargs: Any) -> None:
        cached.deleted(instance.pk, using=kwargs.get("using") or router.db_for_write(sender))

    uid = f"caching:{model._meta.label}"
    post_save.connect(on_save, sender=model, weak=False, dispatch_uid=uid)
    post_delete.connect(on_delete, sender=model, weak=False, dispatch_uid=uid)
    rows_updated.connect(on_rows_updated, sender=model, weak=False, dispatch_uid=uid)
    return cached


def cached_model(model: type[models.Model]) -> CachedModel:
    return _registry[model]
