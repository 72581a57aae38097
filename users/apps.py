from django.apps import AppConfig


class UsersConfig(AppConfig):
    name = "users"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self) -> None:
        # Registers User with the cache service, and the receivers that publish events
        # and keep the Redis indexes (tags, leaderboard) in step with deletions; and how
        # the schema documents a user; and the welcome mail of each new user.
        from users import cache, events, indexes, schema, welcome  # noqa: F401

        events.connect()
        indexes.connect()
        welcome.connect()
