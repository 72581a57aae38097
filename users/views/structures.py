"""The Redis data structures behind users: recent searches (a list), tags (sets) and the
leaderboard (a sorted set)."""

from __future__ import annotations

import re
from dataclasses import asdict

from drf_spectacular.utils import OpenApiResponse, extend_schema, inline_serializer
from rest_framework import serializers
from rest_framework.permissions import AllowAny, IsAuthenticated
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from users import leaderboard, searches
from users import tags as tag_index
from users.models import User
from users.permissions import signed_in
from users.serializers import (
    TAG_PATTERN,
    LeaderboardQuerySerializer,
    SearchSerializer,
    UserIdsQuerySerializer,
)


class SearchesView(APIView):
    """My recent searches: newest first, no duplicates, at most 10."""

    permission_classes = [IsAuthenticated]

    @extend_schema(
        responses=inline_serializer(
            "Searches", {"searches": serializers.ListField(child=serializers.CharField())}
        )
    )
    def get(self, request: Request) -> Response:
        return Response({"searches": searches.recent(signed_in(request).pk)})

    @extend_schema(
        request=SearchSerializer,
        responses=inline_serializer(
            "SearchesAfter", {"searches": serializers.ListField(child=serializers.CharField())}
        ),
    )
    def post(self, request: Request) -> Response:
        body = SearchSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        return Response(
            {
                "searches": searches.push(
                    user_id=signed_in(request).pk, query=body.validated_data["q"]
                )
            }
        )


class TagUsersView(APIView):
    """Ids of the users with a tag."""

    permission_classes = [AllowAny]

    @extend_schema(
        responses={
            200: inline_serializer(
                "TagUsers",
                {
                    "tag": serializers.CharField(),
                    "users": serializers.ListField(child=serializers.IntegerField()),
                },
            ),
            400: OpenApiResponse(description="Not a tag: tags are lowercase slugs"),
        }
    )
    def get(self, request: Request, tag: str) -> Response:
        if not re.fullmatch(TAG_PATTERN, tag) or len(tag) > 32:
            return Response({"detail": "Tags are lowercase slugs."}, status=400)
        return Response({"tag": tag, "users": tag_index.users_with(tag)})


class CommonTagsView(APIView):
    """Tags shared by all of ``?users=1,2,3``, or held by any of ``?any=1,2``."""

    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[UserIdsQuerySerializer],
        responses=inline_serializer(
            "CommonTags",
            {
                "users": serializers.ListField(child=serializers.IntegerField()),
                "tags": serializers.ListField(child=serializers.CharField()),
            },
        ),
    )
    def get(self, request: Request) -> Response:
        query = UserIdsQuerySerializer(data=request.query_params)
        query.is_valid(raise_exception=True)
        ids, union = query.validated_data["ids"], query.validated_data["union"]
        return Response({"users": ids, "tags": tag_index.combined(ids, union=union)})


class LeaderboardView(APIView):
    """Users by points, highest first (ties by id); ``?limit=`` (≤ 100) and ``?offset=``."""

    permission_classes = [AllowAny]

    @extend_schema(
        parameters=[LeaderboardQuerySerializer],
        responses=inline_serializer(
            "Leaderboard",
            {
                "results": inline_serializer(
                    "Place",
                    {
                        "user_id": serializers.IntegerField(),
                        "rank": serializers.IntegerField(),
                        "points": serializers.IntegerField(),
                        "username": serializers.CharField(allow_null=True),
                    },
                    many=True,
                ),
                "limit": serializers.IntegerField(),
                "offset": serializers.IntegerField(),
            },
        ),
    )
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
