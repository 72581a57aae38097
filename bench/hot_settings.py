"""The project's settings with bench/hot_urls.py as the URLconf: what bench/hot_path.py
serves (gunicorn sync and gthread, uvicorn) and profiles in process
(DJANGO_SETTINGS_MODULE=bench.hot_settings). Everything else, the middleware included, is the
project's: the floors pay for the same stack the app's endpoints do."""

from project.settings import *  # noqa: F403

ROOT_URLCONF = "bench.hot_urls"
