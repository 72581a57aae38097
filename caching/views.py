from __future__ import annotations

import logging

from drf_spectacular.utils import extend_schema, inline_serializer
from redis import RedisError
from rest_framework import serializers
from rest_framework.permissions import IsAdminUser
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from caching.metrics import EVENTS
from caching.services import cache_service
from project.web.errors import REDIS_RETRY_AFTER

logger = logging.getLogger("caching")

StatsSerializer = inline_serializer(
    "CacheStats",
    {
        "totals": serializers.DictField(child=serializers.IntegerField()),
        "breaker": serializers.ChoiceField(["closed", "open"]),
    },
)


class CacheStatsView(APIView):
    """Cache counters summed over every process (staff only); Redis unavailable, a 503
    with this process's own counts and ``Retry-After``."""

    permission_classes = [IsAdminUser]

    @extend_schema(responses={200: StatsSerializer, 503: StatsSerializer})
    def get(self, request: Request) -> Response:
        breaker = "open" if cache_service.breaker.is_open else "closed"
        try:
            totals = cache_service.flush_metrics()
        except RedisError as exc:
            logger.warning("cache stats: Redis unavailable: %s", exc)
            return Response(
                {"totals": cache_service.metrics.snapshot(), "breaker": breaker},
                status=503,
                headers={"Retry-After": str(REDIS_RETRY_AFTER)},
            )
        return Response(
            {"totals": {event: totals.get(event, 0) for event in EVENTS}, "breaker": breaker}
        )
