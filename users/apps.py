from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "users"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        from users import (
            cache,  # noqa: F401 - registers User with the cache service
            events,
        )

        events.connect()
