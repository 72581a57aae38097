from typing import Any

from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CachingConfig(AppConfig):
    name = "caching"
    verbose_name = "Caching"

    def ready(self) -> None:
        post_migrate.connect(migrated, sender=self)


def migrated(sender: AppConfig, plan: Any = None, using: str = "default", **kwargs: Any) -> None:
    """After ``migrate`` applied (or reverted) migrations, drop everything cached: a data
    migration writes through historical models, whose saves and querysets the registry
    cannot see. Sent once per app: ``sender=`` this one, with the whole run's plan. If
    Redis cannot be told, the change is recorded and replayed (``caching/recovery.py``)."""
    if not plan:
        return
    from caching.changes import EVERYTHING  # modules with models: imported once apps are ready
    from caching.services import cache_service

    cache_service.submit([EVERYTHING], using=using)
