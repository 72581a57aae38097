"""Create (or reset) a demo staff account for development: ``make run`` calls this."""

from __future__ import annotations

import secrets
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from users.models import User

USERNAME = "admin"


class Command(BaseCommand):
    help = "Create the demo superuser 'admin' with a random password and print it (DEBUG only)."

    def handle(self, *args: Any, **options: Any) -> None:
        if not settings.DEBUG:
            raise CommandError("demo_admin only runs with DJANGO_DEBUG=1; use createsuperuser.")
        secret_file = settings.VAR_DIR / "demo-admin-password"
        if secret_file.exists():
            password = secret_file.read_text().strip()
        else:
            password = secrets.token_urlsafe(12)
            settings.VAR_DIR.mkdir(exist_ok=True)
            secret_file.write_text(password + "\n")
            secret_file.chmod(0o600)
        user, _ = User.objects.get_or_create(
            username=USERNAME, defaults={"email": "admin@example.com", "full_name": "Demo Admin"}
        )
        user.is_staff = user.is_superuser = user.is_active = True
        user.set_password(password)
        user.save()
        self.stdout.write(
            f"Demo admin: http://127.0.0.1:8000/admin/  username {USERNAME}  password {password}"
        )
