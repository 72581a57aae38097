"""The project's settings with bench/task_urls.py as the URLconf: what bench/tasks.py runs
under, in process and in the gunicorn it serves the bench views from
(DJANGO_SETTINGS_MODULE=bench.task_settings)."""

from project.settings import *  # noqa: F403

ROOT_URLCONF = "bench.task_urls"
