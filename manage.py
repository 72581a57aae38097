#!/usr/bin/env python
"""Django's command-line utility for administrative tasks.

Two things happen here before Django's own handling: which commands say where the project's
own Redis runs (see ``ANNOUNCING``), and a mistake in the environment (a variable the
settings refuse, no redis-server to start) ends the command with one line saying what to
set. Only what the settings raise as they read the environment is shortened so: an error
anywhere else (a bug included) keeps its traceback.
"""

import os
import sys

# The commands a person starts to run or explore the app (`make run`, `make worker`,
# `make listen`, `make shell`): they say which redis-server they use when REDIS_URL is
# unset. One-off commands (check, migrate, flush_counters, ...) do not.
ANNOUNCING = frozenset({"runserver", "worker", "listen_events", "shell"})
# Django answers these without the settings, noting what is wrong with them.
WITHOUT_SETTINGS = frozenset({"help", "version", "--help", "-h", "--version"})


def main() -> None:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
    from django.conf import settings
    from django.core.exceptions import ImproperlyConfigured
    from django.core.management import execute_from_command_line

    from project.redis import local

    command = sys.argv[1] if len(sys.argv) > 1 else "help"
    local.announce = command in ANNOUNCING
    if command not in WITHOUT_SETTINGS:
        try:
            settings.INSTALLED_APPS  # noqa: B018 (loads the settings, which read the environment)
        except (ImproperlyConfigured, local.LocalRedisError) as exc:
            sys.exit(f"Configuration error: {exc}")
    execute_from_command_line(sys.argv)


if __name__ == "__main__":
    main()
