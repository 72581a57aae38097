from __future__ import annotations

from django.contrib.auth import logout
from drf_spectacular.utils import extend_schema, inline_serializer
from rest_framework import serializers, status
from rest_framework.exceptions import NotFound
from rest_framework.permissions import IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from sessions import services


class SessionSerializer(serializers.Serializer):
    id = serializers.CharField()
    created = serializers.DateTimeField()
    last_seen = serializers.DateTimeField(help_text="Updated at most once a minute")
    ip = serializers.CharField()
    user_agent = serializers.CharField()
    current = serializers.BooleanField()


class RevokeAllSerializer(serializers.Serializer):
    keep_current = serializers.BooleanField(default=False)


class SessionListView(APIView):
    """My live sessions; ``id`` is opaque (never the session key)."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=SessionSerializer(many=True))
    def get(self, request: Request) -> Response:
        sessions = services.list_sessions(
            user_id=str(request.user.pk), current_key=request.session.session_key
        )
        return Response(SessionSerializer(sessions, many=True).data)


class SessionDetailView(APIView):
    """Revoke one of my sessions."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def delete(self, request: Request, session_id: str) -> Response:
        if not services.revoke(user_id=str(request.user.pk), public_id=session_id):
            raise NotFound("No such session.")
        return Response(status=status.HTTP_204_NO_CONTENT)


class RevokeAllView(APIView):
    """Log out everywhere; ``{"keep_current": true}`` keeps this session."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        request=RevokeAllSerializer,
        responses=inline_serializer("RevokedAll", {"revoked": serializers.IntegerField()}),
    )
    def post(self, request: Request) -> Response:
        options = RevokeAllSerializer(data=request.data)
        options.is_valid(raise_exception=True)
        keep = options.validated_data["keep_current"]
        current = request.session.session_key
        revoked = services.revoke_all(
            user_id=str(request.user.pk), except_key=current if keep else None
        )
        if not keep:
            logout(request)  # this session was among them: end it here too
        return Response({"revoked": revoked})
