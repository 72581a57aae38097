"""``/api/notifications/``: the signed-in user's notifications, newest first, and marking
them read. The live stream is ``notifications.stream``."""

from __future__ import annotations

from typing import Any, cast

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from drf_spectacular.utils import OpenApiParameter, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.exceptions import ValidationError
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.reverse import reverse
from rest_framework.views import APIView

from notifications import services

PAGE_SIZE = 20


class NotificationSerializer(serializers.Serializer):
    id = serializers.CharField(help_text="Its place in the user's stream (SSE ``id:``)")
    notification = serializers.DictField(
        source="data", help_text="As the stream sends it: ``type``, ``at`` and its fields"
    )
    read = serializers.BooleanField()


class ReadSerializer(serializers.Serializer):
    up_to = serializers.RegexField(
        services.ENTRY_ID, required=False, help_text="Mark read up to this id (default: all)"
    )


def user_id(request: Request) -> int:
    return cast(int, request.user.pk)  # IsAuthenticated: a signed-in user


def entry_id(value: str | None, name: str) -> str | None:
    if value is not None and not services.ENTRY_ID.match(value):
        raise ValidationError({name: ["Not a notification id (<ms>-<seq>)."]})
    return value


class NotificationListView(APIView):
    """My notifications, newest first; ``?before=<id>`` pages back (``next``)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        parameters=[OpenApiParameter("before", str, description="Only those older than this id")],
        responses=inline_serializer(
            "NotificationPage",
            {
                "next": serializers.URLField(allow_null=True),
                "results": NotificationSerializer(many=True),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        before = entry_id(request.query_params.get("before"), "before")
        found = services.history(user_id(request), before=before, limit=PAGE_SIZE + 1)
        page, more = found[:PAGE_SIZE], len(found) > PAGE_SIZE
        next_url = None
        if more:
            url = reverse("notifications", request=request)
            next_url = f"{url}?before={page[-1].id}"
        body: dict[str, Any] = {
            "next": next_url,
            "results": NotificationSerializer(page, many=True).data,
        }
        return Response(body)


class ReadView(APIView):
    """Mark my notifications read, up to ``up_to`` (an id) or all of them."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=ReadSerializer,
        responses=inline_serializer(
            "NotificationsRead", {"read_up_to": serializers.CharField(allow_null=True)}
        ),
    )
    def post(self, request: Request) -> Response:
        body = ReadSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        marker = services.mark_read(user_id(request), up_to=body.validated_data.get("up_to"))
        return Response({"read_up_to": marker})


def live(request: HttpRequest) -> HttpResponse:
    """``/notifications/``: the page that shows them arriving (EventSource, nothing
    external); a sign-in form for anyone not signed in."""
    return render(
        request, "notifications/live.html", {"stream_url": reverse("notifications-stream")}
    )
