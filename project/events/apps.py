from django.apps import AppConfig


class EventsConfig(AppConfig):
    name = "project.events"
    label = "events"
    verbose_name = "Events"
