"""A ``migrate`` that applies or reverts migrations drops everything cached: data
migrations write through historical models, which the cache registry cannot see."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from project.redis.local import BASE_DIR
from tests.integration.servers import migrate

pytestmark = pytest.mark.redis

SCRIPT = """
from django.core.management import call_command
from users.cache import cached_users
from users.models import User

user = User.objects.create_user("migrant", "migrant@example.com", "x")
print(cached_users.get(user.pk, "api").status, cached_users.get(user.pk, "api").status)
call_command("migrate", "caching", "0002", verbosity=0)  # as a data migration would run
call_command("migrate", "caching", verbosity=0)
print(cached_users.get(user.pk, "api").status)
call_command("migrate", verbosity=0)  # nothing to apply: nothing dropped
print(cached_users.get(user.pk, "api").status)
"""


def test_a_migrate_that_changes_anything_drops_the_cache(tmp_path: Path) -> None:
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "REDIS_KEY_PREFIX": "migrations",
    }
    migrate(env)
    run = subprocess.run(
        [sys.executable, "manage.py", "shell", "-c", SCRIPT], cwd=BASE_DIR, env=env,
        capture_output=True, text=True, timeout=60,
    )  # fmt: skip
    assert run.returncode == 0, run.stderr
    statuses = [word for word in run.stdout.split() if word in {"HIT", "MISS", "BYPASS"}]
    assert statuses == ["MISS", "HIT", "MISS", "HIT"], run.stdout
