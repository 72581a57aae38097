from django.apps import AppConfig


class RedisSessionsConfig(AppConfig):
    name = "sessions"
    # "sessions" is django.contrib.sessions' label; that app stays out of INSTALLED_APPS.
    label = "redis_sessions"
    verbose_name = "Sessions (Redis)"

    def ready(self) -> None:
        from sessions import checks  # noqa: F401  (registers the session deploy checks)
