from __future__ import annotations

from typing import Any

from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.middleware.csrf import get_token
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_protect, ensure_csrf_cookie
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, status, viewsets
from rest_framework.exceptions import NotFound
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from project.redis import get_client
from ratelimit.throttles import LoginIPThrottle, LoginUsernameThrottle
from sessions.services import revoke_all
from users.cache import cached_users, list_page
from users.models import User
from users.permissions import IsSelfOrStaffOrReadOnly
from users.serializers import (
    CsrfSerializer,
    LoginSerializer,
    PasswordChangeSerializer,
    RegisterSerializer,
    UserRecordSerializer,
    UserSerializer,
    present_user,
)


class UserViewSet(viewsets.ModelViewSet):
    """Register, list, read, update and delete users."""

    queryset = User.objects.order_by("id")
    permission_classes = [IsSelfOrStaffOrReadOnly]

    def get_object(self) -> User:
        self._lookup_pk()
        return super().get_object()

    def _lookup_pk(self) -> int:
        # A malformed id is a JSON 404 here, not an HTML one from the URL resolver.
        lookup = str(self.kwargs[self.lookup_field])
        if not (lookup.isascii() and lookup.isdigit()):
            raise NotFound("No user with this id.")
        return int(lookup)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Cache-aside read; ``X-Cache`` says HIT, MISS or BYPASS (Redis unavailable)."""
        result = cached_users.get(self._lookup_pk(), "api")
        if result.value is None:
            raise NotFound("No user with this id.")
        return Response(present_user(result.value, request), headers={"X-Cache": result.status})

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A cached page of users, dropped whenever any user changes (tag ``users``)."""

        def load() -> dict[str, Any]:
            page = self.paginate_queryset(self.get_queryset())  # 404 for a bad page: not cached
            records = UserRecordSerializer(page, many=True).data
            return dict(self.get_paginated_response(records).data)

        result = list_page(
            host=request.get_host(),
            page=request.query_params.get(self.paginator.page_query_param, "1"),
            page_size=str(self.paginator.get_page_size(request)),
            loader=load,
        )
        page = {
            **result.value,
            "results": [present_user(record, request) for record in result.value["results"]],
        }
        return Response(page, headers={"X-Cache": result.status})

    def get_serializer_class(self) -> type[serializers.BaseSerializer]:
        return RegisterSerializer if self.action == "create" else UserSerializer

    def perform_destroy(self, instance: User) -> None:
        deleting_self = instance.pk == self.request.user.pk
        instance.delete()
        if deleting_self:
            logout(self.request)


class CsrfView(APIView):
    """Set the ``csrftoken`` cookie and return the token for the ``X-CSRFToken`` header."""

    permission_classes = [AllowAny]

    @extend_schema(responses=CsrfSerializer)
    @method_decorator(ensure_csrf_cookie)
    def get(self, request: Request) -> Response:
        return Response({"csrfToken": get_token(request)})


class LoginView(APIView):
    """Sign in with a username and password; the session cookie comes back."""

    permission_classes = [AllowAny]
    # Its own scope, counted per IP and per username tried (DESIGN §3 THROTTLE_RATES login).
    throttle_classes = [LoginIPThrottle, LoginUsernameThrottle]

    # DRF checks CSRF only for authenticated sessions; a login form needs it too (login CSRF).
    @extend_schema(request=LoginSerializer, responses=UserSerializer)
    @method_decorator(csrf_protect)
    def post(self, request: Request) -> Response:
        credentials = LoginSerializer(data=request.data)
        credentials.is_valid(raise_exception=True)
        user = authenticate(request, **credentials.validated_data)
        if user is None:
            return Response(
                {"detail": "Invalid username or password."}, status=status.HTTP_400_BAD_REQUEST
            )
        login(request, user)  # cycles the session key: no fixation
        return Response(UserSerializer(user, context={"request": request}).data)


class LogoutView(APIView):
    """End the current session."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        logout(request)
        return Response(status=status.HTTP_204_NO_CONTENT)


class PasswordChangeView(APIView):
    """Change my password: this session stays signed in, every other one is logged out."""

    permission_classes = [IsAuthenticated]

    @extend_schema(request=PasswordChangeSerializer, responses={204: None})
    def post(self, request: Request) -> Response:
        # request.user may be the cache's read-only snapshot: change the row itself.
        user = User.objects.get(pk=request.user.pk)
        request.user = user
        change = PasswordChangeSerializer(data=request.data, context={"request": request})
        change.is_valid(raise_exception=True)
        user.set_password(change.validated_data["new_password"])
        user.save()
        update_session_auth_hash(request, user)  # cycles this session's key, keeps it
        revoke_all(get_client(), str(user.pk), except_key=request.session.session_key)
        return Response(status=status.HTTP_204_NO_CONTENT)


class MeView(APIView):
    """The signed-in user, email included."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=UserSerializer)
    def get(self, request: Request) -> Response:
        return Response(UserSerializer(request.user, context={"request": request}).data)
