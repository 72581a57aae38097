"""The URLconf of bench/hot_settings.py: the project's URLs and the three floors of
bench/hot_path.py, served by the same servers, through the same middleware:

- ``/bench/hot/django/``: a plain Django view, a constant as JSON (``JsonResponse``);
- ``/bench/hot/drf/``: a DRF ``APIView`` returning a constant ``Response``;
- ``/bench/hot/drf-get/``: a DRF ``APIView`` doing one Redis ``GET`` (the project's client)
  of a ~300-byte JSON record, ``json.loads`` and ``Response``.

No authentication, permission or throttle classes: the point is the framework's floor. The
constant is the record the GET reads (bench/hot_record.py; bench/hot_path.py stores
``json.dumps(RECORD)`` at ``FLOOR_KEY``), so the three render the same body."""

from __future__ import annotations

import json

from django.http import HttpRequest, JsonResponse
from django.urls import path
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from bench.hot_record import FLOOR_KEY, RECORD
from project import urls
from project.redis.client import get_client


def plain(request: HttpRequest) -> JsonResponse:
    return JsonResponse(RECORD)


class Bare(APIView):
    authentication_classes = ()
    permission_classes = ()
    throttle_classes = ()


class Constant(Bare):
    def get(self, request: Request) -> Response:
        return Response(RECORD)


class OneGet(Bare):
    def get(self, request: Request) -> Response:
        raw = get_client().get(FLOOR_KEY)
        if raw is None:
            return Response({"detail": "bench/hot_path.py stores the floor's record"}, 503)
        return Response(json.loads(raw))


urlpatterns = [
    path("bench/hot/django/", plain),
    path("bench/hot/drf/", Constant.as_view()),
    path("bench/hot/drf-get/", OneGet.as_view()),
    *urls.urlpatterns,
]
handler400, handler404, handler500 = urls.handler400, urls.handler404, urls.handler500
