"""ASGI entry point (``uvicorn project.asgi:application``)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

application = get_asgi_application()

from project.startup import check_or_refuse_to_start  # noqa: E402  (needs the apps loaded)

check_or_refuse_to_start()
