"""ASGI entry point (``uvicorn project.asgi:application``).

Django's handler, except for the notification stream, whose open responses hold no thread
(``project/web/asgi.py``)."""

import os

import django

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")
django.setup(set_prefix=False)

from django.urls import reverse  # noqa: E402  (needs the apps loaded)

from project.startup import check_or_refuse_to_start  # noqa: E402
from project.web.asgi import StreamingASGIHandler  # noqa: E402

check_or_refuse_to_start()
application = StreamingASGIHandler(streaming={reverse("notifications-stream")})
