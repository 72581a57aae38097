from __future__ import annotations

from django.apps import AppConfig
from django.utils.module_loading import autodiscover_modules


class JobsConfig(AppConfig):
    name = "jobs"
    default_auto_field = "django.db.models.BigAutoField"
    verbose_name = "Background jobs"

    def ready(self) -> None:
        from jobs import checks, health  # noqa: F401  (the system checks, the health detail)

        # Every app's tasks.py: its tasks, their retry options and periodic schedules are
        # known in every process (the enqueuer sets a job's retries, not the worker).
        autodiscover_modules("tasks")
