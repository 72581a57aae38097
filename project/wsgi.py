"""WSGI entry point (``gunicorn project.wsgi``)."""

import os

from django.core.wsgi import get_wsgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "project.settings")

application = get_wsgi_application()

from project.startup import check_or_refuse_to_start  # noqa: E402  (needs the apps loaded)

check_or_refuse_to_start()
