"""``/api/users/``: register, list, read, update and delete users, and their tags,
points and rank."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import asdict
from functools import partial
from typing import Any, cast

from django.contrib.auth import logout
from drf_spectacular.utils import extend_schema
from rest_framework import serializers, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound
from rest_framework.pagination import PageNumberPagination
from rest_framework.permissions import IsAdminUser
from rest_framework.renderers import BrowsableAPIRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.utils.serializer_helpers import ReturnDict

from ratelimit.throttles import RegisterThrottle
from users import leaderboard, selectors
from users import tags as tag_index
from users.cache import list_page
from users.models import User
from users.permissions import IsSelfOrStaffOrReadOnly
from users.selectors import CachedRecord
from users.serializers import (
    PointsSerializer,
    RegisterSerializer,
    StandingSerializer,
    TagsSerializer,
    UserRecordSerializer,
    UserSerializer,
)


class UserViewSet(viewsets.ModelViewSet):
    """Register, list, read, update and delete users."""

    queryset = User.objects.order_by("id")
    permission_classes = [IsSelfOrStaffOrReadOnly]

    def get_throttles(self) -> list[Any]:
        throttles = super().get_throttles()
        return [*throttles, RegisterThrottle()] if self.action == "create" else throttles

    def get_object(self) -> Any:
        """The row to change; for a read, the cached record (no SQL on a hit). Either way
        through DRF's object-permission hook."""
        pk = self._lookup_pk()
        if self.action != "retrieve":
            return super().get_object()
        user = selectors.cached_user(pk)
        if user is None:
            raise NotFound("No user with this id.")
        self.check_object_permissions(self.request, user)
        return user

    def _lookup_pk(self) -> int:
        # A malformed id is a JSON 404 here, not an HTML one from the URL resolver.
        lookup = str(self.kwargs[self.lookup_field])
        if not (lookup.isascii() and lookup.isdigit()):
            raise NotFound("No user with this id.")
        return int(lookup)

    def retrieve(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """Cache-aside read; ``X-Cache`` says HIT, MISS or BYPASS (Redis unavailable).
        Counts a profile view; the counts shown include those not yet flushed."""
        user: CachedRecord = self.get_object()
        shown = selectors.profile(user, viewer=request)
        as_shown = partial(User, **shown)  # a model never saved: no SQL
        return Response(self._form_data(shown, as_shown), headers={"X-Cache": user.status})

    def update(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        user = self.get_object()
        body = self.get_serializer(user, data=request.data, partial=kwargs.get("partial", False))
        body.is_valid(raise_exception=True)
        saved = body.save()
        return Response(self._form_data(selectors.account(saved, viewer=request), lambda: saved))

    def _form_data(self, shown: dict[str, Any], instance: Callable[[], User]) -> dict[str, Any]:
        """In the browsable API, ``shown`` carries a serializer of ``instance()``, the user
        it shows: DRF prefills the edit forms from ``data.serializer.instance`` and offers
        them only if the object permission passes. API clients get ``shown`` as it is."""
        if not isinstance(self.request.accepted_renderer, BrowsableAPIRenderer):
            return shown
        return ReturnDict(shown, serializer=self.get_serializer(instance()))

    def list(self, request: Request, *args: Any, **kwargs: Any) -> Response:
        """A cached page of users, dropped whenever any user changes (tag ``users``)."""

        def load() -> dict[str, Any]:
            page = self.paginate_queryset(self.get_queryset())  # 404 for a bad page: not cached
            records = UserRecordSerializer(page, many=True).data
            return dict(self.get_paginated_response(records).data)

        # DEFAULT_PAGINATION_CLASS in settings: project.web.pagination.PageNumberPagination.
        paginator = cast(PageNumberPagination, self.paginator)
        result = list_page(
            host=request.get_host(),
            page=request.query_params.get(paginator.page_query_param, "1"),
            page_size=str(paginator.get_page_size(request)),
            loader=load,
        )
        page = {**result.value, "results": selectors.page(result.value["results"], viewer=request)}
        return Response(page, headers={"X-Cache": result.status})

    def get_serializer_class(self) -> type[serializers.BaseSerializer[Any]]:
        return RegisterSerializer if self.action == "create" else UserSerializer

    def perform_destroy(self, instance: User) -> None:
        deleting_self = instance.pk == self.request.user.pk
        instance.delete()
        if deleting_self:
            logout(self.request)

    @extend_schema(request=TagsSerializer, responses=TagsSerializer)
    @action(detail=True, methods=["get", "put"])
    def tags(self, request: Request, pk: str | None = None) -> Response:
        """The user's tags; ``PUT {"tags": [...]}`` replaces them (the user or staff)."""
        user = self.get_object()  # object permission: the user or staff for PUT
        if request.method == "PUT":
            body = TagsSerializer(data=request.data)
            body.is_valid(raise_exception=True)
            return Response(
                {"tags": tag_index.set_tags(user=user, tags=body.validated_data["tags"])}
            )
        return Response({"tags": tag_index.tags_of(user)})

    @extend_schema(request=PointsSerializer, responses=StandingSerializer)
    @action(detail=True, methods=["post"], permission_classes=[IsAdminUser])
    def points(self, request: Request, pk: str | None = None) -> Response:
        """Add ``delta`` points (staff); the leaderboard follows on commit."""
        user = self.get_object()
        body = PointsSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        total = leaderboard.add_points(user_id=user.pk, delta=body.validated_data["delta"])
        return Response({"user_id": user.pk, "points": total})

    @extend_schema(responses=StandingSerializer)
    @action(detail=True, methods=["get"])
    def rank(self, request: Request, pk: str | None = None) -> Response:
        """The user's place on the leaderboard."""
        standing = leaderboard.standing(self._lookup_pk())
        if standing is None:
            raise NotFound("This user is not on the leaderboard.")
        return Response(asdict(standing))
