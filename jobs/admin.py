"""The outbox in the admin: what committed but was not handed to the queue yet (django-rq's
own pages, under "Django_Rq", list the queues, running, scheduled and failed jobs)."""

from __future__ import annotations

from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from jobs import relay
from jobs.models import OutboxJob


@admin.register(OutboxJob)
class OutboxJobAdmin(admin.ModelAdmin):
    list_display = ("task", "created_at", "attempts", "last_error")
    readonly_fields = ("id", "task", "args", "kwargs", "created_at", "attempts", "last_error")
    actions = ["hand_off"]

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    @admin.action(description="Hand the selected jobs to the queue now")
    def hand_off(self, request: HttpRequest, queryset: QuerySet[OutboxJob]) -> None:
        chosen = list(queryset.values_list("pk", flat=True))
        handed = sum(relay.hand_off(pk) for pk in chosen)
        self.message_user(request, f"{handed} of {len(chosen)} handed off.", messages.INFO)
