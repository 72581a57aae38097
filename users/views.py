from __future__ import annotations

import logging
import re
from dataclasses import asdict
from typing import Any, cast

from django.contrib.auth import authenticate, login, logout, update_session_auth_hash
from django.middleware.csrf import get_token
from django.utils.decorators import method_decorator
from django.views.decorators.csrf import csrf_protect, ensure_csrf_cookie
from drf_spectacular.utils import extend_schema, inline_serializer
from redis import RedisError
from rest_framework import serializers, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import AllowAny, IsAdminUser, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from project.redis import get_client
from ratelimit.throttles import LoginIPThrottle, LoginUsernameThrottle
from sessions.services import revoke_all
from users import counters, leaderboard, searches
from users import tags as tag_index
from users.cache import cached_users, list_page
from users.models import User
from users.permissions import IsSelfOrStaffOrReadOnly
from users.serializers import (
    TAG_PATTERN,
    CsrfSerializer,
    LeaderboardQuerySerializer,
    LoginSerializer,
    PasswordChangeSerializer,
    PointsSerializer,
    RegisterSerializer,
    SearchSerializer,
    StandingSerializer,
    TagsSerializer,
    UserIdsQuerySerializer,
    UserRecordSerializer,
    UserSerializer,
    present_user,
)

logger = logging.getLogger("users")


def signed_in(request: Request) -> User:
    """``request.user`` in a view whose permission classes refuse anonymous requests: a
    User (the cache's CachedUser snapshot, or the row), never AnonymousUser."""
    return cast(User, request.user)


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
        """Cache-aside read; ``X-Cache`` says HIT, MISS or BYPASS (Redis unavailable).
        Counts a profile view; the counts shown include those not yet flushed."""
        pk = self._lookup_pk()
        result = cached_users.get(pk, "api")
        if result.value is None:
            raise NotFound("No user with this id.")
        record = dict(result.value)
        try:
            waiting = counters.count_view(pk)
        except RedisError as exc:
            logger.warning("profile view of %d not counted, Redis unavailable: %s", pk, exc)
        else:
            record["profile_views"] += waiting.views
            record["login_count"] += waiting.logins
        return Response(present_user(record, request), headers={"X-Cache": result.status})

    @extend_schema(request=TagsSerializer, responses=TagsSerializer)
    @action(detail=True, methods=["get", "put"])
    def tags(self, request: Request, pk: str | None = None) -> Response:
        """The user's tags; ``PUT {"tags": [...]}`` replaces them (the user or staff)."""
        user = self.get_object()  # object permission: the user or staff for PUT
        if request.method == "PUT":
            body = TagsSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            return Response({"tags": tag_index.set_tags(user, body.validated_data["tags"])})
        return Response({"tags": tag_index.tags_of(user)})

    @extend_schema(request=PointsSerializer, responses=StandingSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsAdminUser])
    def points(self, request: Request, pk: str | None = None) -> Response:
        """Add ``delta`` points (staff); the leaderboard follows on commit."""
        user = self.get_object()
        body = PointsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        total = leaderboard.add_points(user.pk, body.validated_data["delta"])
        return Response({"user_id": user.pk, "points": total})

    @extend_schema(responses=StandingSerializer)
    @action(detail=True, methods=["get"])
    def rank(self, request: Request, pk: str | None = None) -> Response:
        """The user's place on the leaderboard."""
        standing = leaderboard.standing(self._lookup_pk())
        if standing is None:
            raise NotFound("This user is not on the leaderboard.")
        return Response(asdict(standing))

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A cached page of users, dropped whenever any user changes (tag ``users``)."""

        def load() -> dict[str, Any]:
            page = self.paginate_queryset(self.get_queryset())  # 404 for a bad page: not cached
            records = UserRecordSerializer(page, many=True).data
            return dict(self.get_paginated_response(records).data)

        # DEFAULT_PAGINATION_CLASS in settings: project.pagination.PageNumberPagination.
        paginator = cast(PageNumberPagination, self.paginator)
        result = list_page(
            host=request.get_host(),
            page=request.query_params.get(paginator.page_query_param, "1"),
            page_size=str(paginator.get_page_size(request)),
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
        try:
            counters.count_login(user.pk)
        except RedisError as exc:
            logger.warning("login of %d not counted, Redis unavailable: %s", user.pk, exc)
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
        user = User.objects.get(pk=signed_in(request).pk)
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


class SearchesView(APIView):
    """My recent searches: newest first, no duplicates, at most 10."""

    permission_classes = [IsAuthenticated]

    @extend_schema(responses=inline_serializer("Searches", {"searches": serializers.ListField()}))
    def get(self, request: Request) -> Response:
        return Response({"searches": searches.recent(signed_in(request).pk)})

    @extend_schema(
        request=SearchSerializer,
        responses=inline_serializer("SearchesAfter", {"searches": serializers.ListField()}),
    )
    def post(self, request: Request) -> Response:
        body = SearchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        searches_after = searches.push(signed_in(request).pk, body.validated_data["q"])
        return Response({"searches": searches_after})


class TagUsersView(APIView):
    """Ids of the users with a tag."""

    permission_classes = [AllowAny]

    def get(self, request: Request, tag: str) -> Response:
        if not re.fullmatch(TAG_PATTERN, tag) or len(tag) > 32:
            return Response({"detail": "Tags are lowercase slugs."}, status=400)
        return Response({"tag": tag, "users": tag_index.users_with(tag)})


class CommonTagsView(APIView):
    """Tags shared by all of ``?users=1,2,3``, or held by any of ``?any=1,2``."""

    permission_classes = [AllowAny]

    @extend_schema(parameters=[UserIdsQuerySerializer])
    def get(self, request: Request) -> Response:
        query = UserIdsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        ids, union = query.validated_data["ids"], query.validated_data["union"]
        return Response({"users": ids, "tags": tag_index.combined(ids, union=union)})


class LeaderboardView(APIView):
    """Users by points, highest first (ties by id); ``?limit=`` (≤ 100) and ``?offset=``."""

    permission_classes = [AllowAny]

    @extend_schema(parameters=[LeaderboardQuerySerializer], responses=StandingSerializer(many=True))
    def get(self, request: Request) -> Response:
        query = LeaderboardQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        board = leaderboard.top(**query.validated_data)
        names = dict(
            User.objects.filter(pk__in=[s.user_id for s in board]).values_list("pk", "username")
        )
        return Response(
            {
                "results": [{**asdict(s), "username": names.get(s.user_id)} for s in board],
                **query.validated_data,
            }
        )
