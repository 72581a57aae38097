from django.apps import AppConfig


class RateLimitConfig(AppConfig):
    name = "ratelimit"
    verbose_name = "Rate limiting"

    def ready(self) -> None:
        from ratelimit import checks  # noqa: F401  (registers the THROTTLE_RATES check)
