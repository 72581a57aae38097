"""The one settings module, driven by environment variables (README.md, Configuration).

Nothing here has to be edited to deploy: every knob is an environment variable with a
development default. With REDIS_URL unset, the project's own redis-server is found or
started (project/redis/local.py) so ``manage.py`` and the tests always talk to a real Redis.

It imports the ground floor only (``project.env``, ``project.redis``), never an app: apps
are named here as strings, and check their own settings (``ratelimit``'s system check).
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import dj_database_url
import django
from django.core.exceptions import ImproperlyConfigured

from project.env import env_bool, env_float, env_int, env_list, env_logging, env_mailer, env_mapping
from project.redis import config as redis_config
from project.redis import local as local_redis

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = BASE_DIR / "var"


# --- Core -----------------------------------------------------------------------------

DEBUG = env_bool("DJANGO_DEBUG", False)
SECRET_KEY = os.environ.get("DJANGO_SECRET_KEY", "")
if not SECRET_KEY:
    if not DEBUG:
        raise ImproperlyConfigured(
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off: set it to a long random "
            "string, or set DJANGO_DEBUG=1 for development (as `make run` does)"
        )
    SECRET_KEY = "django-insecure-dev-key-do-not-use-in-production"
ALLOWED_HOSTS = env_list("DJANGO_ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")

# --- HTTPS ----------------------------------------------------------------------------
# Outside DEBUG the session and CSRF cookies are Secure (sent over HTTPS only); a
# deployment that serves plain http (behind nothing, on a private network) says so with
# DJANGO_SECURE_COOKIES=0. Redirects to HTTPS and HSTS only when the environment asks:
# both are hard to undo for a domain.
SECURE_COOKIES = env_bool("DJANGO_SECURE_COOKIES", not DEBUG)
SESSION_COOKIE_SECURE = CSRF_COOKIE_SECURE = SECURE_COOKIES
SECURE_SSL_REDIRECT = env_bool("DJANGO_SSL_REDIRECT", False)
SECURE_HSTS_SECONDS = env_int("DJANGO_HSTS_SECONDS", 0)

INSTALLED_APPS = [
    "project.web.apps.ProjectAdminConfig",  # django.contrib.admin, with Redis's warnings
    "django.contrib.auth",
    "django.contrib.contenttypes",
    # django.contrib.sessions stays out: sessions live in Redis, not in a table, and its
    # label "sessions" is taken by our engine's app (label "redis_sessions").
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "rest_framework",
    "drf_spectacular",
    "drf_spectacular_sidecar",
    "project.locks",
    "project.events",
    "caching",
    "sessions",
    "ratelimit",
    "django_tasks",  # the Tasks API (django.tasks' backport, which django-tasks-rq needs)
    "django_rq",
    "django_tasks_rq",
    "jobs",
    "notifications",
    "users",
    "observability",  # /admin/redis/, /metrics
]

MIDDLEWARE = [
    "project.web.observed.MetricsMiddleware",  # outermost: counts every response, 500s too
    "project.web.errors.api_json_errors",  # errors under /api/ as JSON, in DEBUG too
    "django.middleware.security.SecurityMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "caching.middleware.ReadYourWritesMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "ratelimit.middleware.RateLimitHeadersMiddleware",
    "ratelimit.signin.AdminSignInMiddleware",  # the API's sign-in protection for /admin/login/
    "django.contrib.messages.middleware.MessageMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
]

ROOT_URLCONF = "project.urls"
WSGI_APPLICATION = "project.wsgi.application"
ASGI_APPLICATION = "project.asgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "project" / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
            ],
        },
    },
]

# --- Database -------------------------------------------------------------------------

_DEFAULT_DATABASE_URL = f"sqlite:///{VAR_DIR / 'db.sqlite3'}"
DATABASE_URL = os.environ.get("DATABASE_URL") or _DEFAULT_DATABASE_URL
if DATABASE_URL == _DEFAULT_DATABASE_URL:
    VAR_DIR.mkdir(exist_ok=True)
# Persistent connections with health checks: a new PostgreSQL connection per request
# costs more than the whole cached read (docs/architecture.md, Hot path).
try:
    _database = dj_database_url.parse(DATABASE_URL, conn_max_age=600, conn_health_checks=True)
except ValueError as exc:  # the URL may hold a password: the message names the scheme only
    raise ImproperlyConfigured(f"DATABASE_URL is not usable: {exc}") from None
DATABASES = {"default": _database}
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

# --- Redis ----------------------------------------------------------------------------

REDIS_URL = os.environ.get("REDIS_URL") or local_redis.default_url()
REDIS_KEY_PREFIX = os.environ.get("REDIS_KEY_PREFIX", "app")
if not REDIS_KEY_PREFIX or ":" in REDIS_KEY_PREFIX:
    raise ImproperlyConfigured("REDIS_KEY_PREFIX must be non-empty and contain no ':'")
# Request paths must fail fast when Redis stalls: short timeouts, no client retries.
REDIS_SOCKET_TIMEOUT = env_float("REDIS_SOCKET_TIMEOUT", 0.25)
REDIS_CONNECT_TIMEOUT = env_float("REDIS_CONNECT_TIMEOUT", 0.25)
# On Sentinel, a logout or a revocation waits (at most this long) for a replica to have
# it, so a failover right after it cannot bring the session back (0: never wait).
REDIS_WAIT_REPLICA_MS = env_int("REDIS_WAIT_REPLICA_MS", 100)

# Server-Timing header with the request's SQL queries and Redis round trips.
SERVER_TIMING = env_bool("SERVER_TIMING", DEBUG)
if SERVER_TIMING:
    MIDDLEWARE.insert(0, "project.redis.timing.ServerTimingMiddleware")

# GET /metrics: staff, or "Authorization: Bearer $METRICS_TOKEN" (docs/observability.md).
METRICS_TOKEN = os.environ.get("METRICS_TOKEN", "")
if os.environ.get("PROMETHEUS_MULTIPROC_DIR"):  # libraries make metrics there on import
    os.makedirs(os.environ["PROMETHEUS_MULTIPROC_DIR"], exist_ok=True)

# Off: every cached read goes to the database (X-Cache: BYPASS); writes still keep the
# cache right. For measuring what the cache buys, not for production.
CACHE_ENABLED = env_bool("CACHE_ENABLED", True)

REDIS_TOPOLOGY = redis_config.parse(REDIS_URL)  # ImproperlyConfigured if malformed
CACHES: dict[str, dict[str, Any]] = {
    "default": redis_config.cache_settings(
        REDIS_TOPOLOGY,
        key_prefix=REDIS_KEY_PREFIX,
        socket_timeout=REDIS_SOCKET_TIMEOUT,
        connect_timeout=REDIS_CONNECT_TIMEOUT,
    ),
}

# Sessions in Redis through their own engine (sessions/): fail closed, never resurrected.
SESSION_ENGINE = "sessions.backends.redis"
SESSION_SERIALIZER = "django.contrib.sessions.serializers.JSONSerializer"
SESSION_LAST_SEEN_INTERVAL = 60  # seconds between "last seen" writes per session

# Reverse proxies in front of the app: 0 trusts REMOTE_ADDR only, never X-Forwarded-For.
NUM_PROXIES = env_int("NUM_PROXIES", 0)

# --- Events (project/events/, manage.py listen_events) ---------------------------------

EVENTS_TOPICS = env_list("EVENTS_TOPICS", "users")  # what listen_events subscribes to
EVENTS_STREAM_MAXLEN = 100_000  # each topic's stream is trimmed near this length

# --- Background jobs (jobs/, manage.py worker) ----------------------------------------

# Django's Tasks API, run by RQ (docs/tasks.md). RQ cannot run on a Redis Cluster: there the
# queue needs a standalone or Sentinel Redis of its own (TASKS_REDIS_URL); without one it
# falls back to the project's local redis-server and the jobs.W001 check says so.
TASKS_REDIS_URL = os.environ.get("TASKS_REDIS_URL", "")
_tasks_redis_url = TASKS_REDIS_URL or (
    REDIS_URL if REDIS_TOPOLOGY.kind != "cluster" else local_redis.default_url()
)
TASKS_JOB_TIMEOUT = env_int("TASKS_JOB_TIMEOUT", 300)  # seconds before RQ kills a job
TASKS = {"default": {"BACKEND": "django_tasks_rq.RQBackend", "QUEUES": ["default"]}}
RQ_QUEUES = {
    "default": redis_config.queue_settings(
        redis_config.parse(_tasks_redis_url),
        socket_timeout=REDIS_SOCKET_TIMEOUT,
        connect_timeout=REDIS_CONNECT_TIMEOUT,
        job_timeout=TASKS_JOB_TIMEOUT,
    ),
}
# django-tasks-rq's job class runs Tasks; ours adds each task's retries and timeout.
RQ = {"JOB_CLASS": "django_tasks_rq.Job", "QUEUE_CLASS": "jobs.queue.TaskQueue"}
# The write-back flush runs on this period (scheduled by the worker, once per period).
COUNTER_FLUSH_SECONDS = env_int("COUNTER_FLUSH_SECONDS", 60)
INDEX_REPAIR_SECONDS = env_int("INDEX_REPAIR_SECONDS", 600)  # tags and leaderboard vs the DB

# --- Mail -----------------------------------------------------------------------------

_mailer = env_mailer(debug=DEBUG)  # EMAIL_BACKEND, EMAIL_FILE_PATH
if django.VERSION >= (6, 1):  # MAILERS replaces EMAIL_BACKEND and EMAIL_FILE_PATH
    MAILERS = {"default": _mailer}
else:
    EMAIL_BACKEND = _mailer["BACKEND"]
    EMAIL_FILE_PATH = _mailer["OPTIONS"].get("file_path")
DEFAULT_FROM_EMAIL = os.environ.get("DEFAULT_FROM_EMAIL", "webmaster@localhost")

# --- Rate limiting (ratelimit/) -------------------------------------------------------

# scope → "N/period"; ratelimit's system check refuses an invalid rate at start-up.
# THROTTLE_RATES merges over these: a scope it names replaces its default, the others stay.
DEFAULT_THROTTLE_RATES = {
    "anon": "100/min",  # per address
    "user": "1000/min",  # per signed-in user
    "login": "5/min",  # sign-in attempts per address
    "login_account": "10/15m",  # failed sign-ins per account, from clients new to it
    "register": "10/h",  # registrations per address
}
THROTTLE_RATES = {**DEFAULT_THROTTLE_RATES, **env_mapping("THROTTLE_RATES", "")}
# Redis down: admit and log (1), or refuse with 503 (0).
THROTTLE_FAIL_OPEN = env_bool("THROTTLE_FAIL_OPEN", True)

# --- Auth -----------------------------------------------------------------------------

AUTH_USER_MODEL = "users.User"
# request.user from the cache: a signed-in cached read runs no SQL.
AUTHENTICATION_BACKENDS = ["users.backends.CachedModelBackend"]
AUTH_PASSWORD_VALIDATORS = [
    {
        "NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator",
        "OPTIONS": {"user_attributes": ("username", "full_name", "email")},
    },
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]
CSRF_FAILURE_VIEW = "project.web.errors.csrf_failure"

# --- Static files, i18n ---------------------------------------------------------------

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"  # `manage.py collectstatic` fills it for production
# WhiteNoise serves the apps' static files (admin, DRF, Swagger UI) even before collectstatic.
WHITENOISE_USE_FINDERS = True
LANGUAGE_CODE = "en-us"
TIME_ZONE = "UTC"
USE_I18N = True
USE_TZ = True

# --- Django REST framework ------------------------------------------------------------

REST_FRAMEWORK = {
    "DEFAULT_AUTHENTICATION_CLASSES": ["rest_framework.authentication.SessionAuthentication"],
    "DEFAULT_PERMISSION_CLASSES": ["rest_framework.permissions.IsAuthenticatedOrReadOnly"],
    "DEFAULT_PAGINATION_CLASS": "project.web.pagination.PageNumberPagination",
    "DEFAULT_RENDERER_CLASSES": [
        "rest_framework.renderers.JSONRenderer",
        "rest_framework.renderers.BrowsableAPIRenderer",
    ],
    "DEFAULT_PARSER_CLASSES": [
        "project.web.parsers.JSONParser",  # DRF's, with too-deep nesting a 400
        "rest_framework.parsers.FormParser",
        "rest_framework.parsers.MultiPartParser",
    ],
    # drf-spectacular's, plus every operation's error responses and anonymous access.
    "DEFAULT_SCHEMA_CLASS": "project.web.schema.AutoSchema",
    "DEFAULT_THROTTLE_CLASSES": [
        "ratelimit.throttles.AnonRateThrottle",
        "ratelimit.throttles.UserRateThrottle",
    ],
    # The same dict: DRF's own throttles, if a view uses one, see the same rates.
    "DEFAULT_THROTTLE_RATES": THROTTLE_RATES,
    "EXCEPTION_HANDLER": "project.web.errors.api_exception_handler",
    # Docstrings as the browsable API shows them: ``literals`` as code, paragraphs rewrapped.
    "VIEW_DESCRIPTION_FUNCTION": "project.web.views.view_description",
}

SPECTACULAR_SETTINGS = {
    "TITLE": "Redis patterns for Django",
    "DESCRIPTION": "Users, auth and health over Django REST framework, backed by Redis.",
    "VERSION": "1.0.0",
    "SERVE_INCLUDE_SCHEMA": False,
    # What a client sends and what it gets back are separate components (UserRequest, User):
    # read-only fields are not asked for, and a response need not hold every required input.
    "COMPONENT_SPLIT_REQUEST": True,
    # Swagger UI from the sidecar package: the docs work offline, no CDN.
    "SWAGGER_UI_DIST": "SIDECAR",
    "SWAGGER_UI_FAVICON_HREF": "SIDECAR",
    "REDOC_DIST": "SIDECAR",
}

# --- Logging --------------------------------------------------------------------------

# Plain lines on stderr: the project's loggers at LOG_LEVEL (INFO), the libraries' WARNING.
LOGGING = env_logging("project users caching ratelimit sessions jobs notifications observability")
