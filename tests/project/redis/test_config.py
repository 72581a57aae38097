"""REDIS_URL: every form it may take, clear errors for the rest, and degraded service
(never a hang or a 500) when the Sentinel or Cluster it names does not answer."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings
from rest_framework.test import APIClient

from project.redis.config import Topology, cache_location_and_options, parse
from users.models import User


@pytest.mark.parametrize(
    ("url", "topology"),
    [
        ("redis://127.0.0.1:6379/0", Topology("standalone", "redis://127.0.0.1:6379/0")),
        ("unix:///tmp/r.sock?db=2", Topology("standalone", "unix:///tmp/r.sock?db=2")),
        (
            "redis+sentinel://10.0.0.1:26379,10.0.0.2:26379/mymaster/2",
            Topology(
                "sentinel", "redis+sentinel://10.0.0.1:26379,10.0.0.2:26379/mymaster/2",
                (("10.0.0.1", 26379), ("10.0.0.2", 26379)), "mymaster", 2,
            ),
        ),
        (
            "redis+cluster://h1:7000,[::1]:7001",
            Topology(
                "cluster", "redis+cluster://h1:7000,[::1]:7001", (("h1", 7000), ("::1", 7001))
            ),
        ),
    ],
)  # fmt: skip
def test_every_form_of_redis_url(url: str, topology: Topology) -> None:
    assert parse(url) == topology


@pytest.mark.parametrize(
    "url",
    ["http://x:1", "redis://", "unix://", "redis+sentinel://h:1/", "redis+sentinel://",
     "redis+cluster://", "redis+cluster://h:x", "redis+cluster://h:1/3", "nonsense"],
)  # fmt: skip
def test_malformed_urls_are_improperly_configured(url: str) -> None:
    with pytest.raises(ImproperlyConfigured, match=r"REDIS_URL=.* is not usable"):
        parse(url)


def test_a_malformed_url_stops_start_up(manage: Any) -> None:
    result = manage("check", REDIS_URL="redis+cluster://nowhere")
    assert result.returncode != 0
    assert "REDIS_URL='redis+cluster://nowhere' is not usable" in result.stderr


def caches_for(url: str) -> dict:
    location, options = cache_location_and_options(parse(url))
    return {
        "default": {
            "BACKEND": "django_redis.cache.RedisCache",
            "LOCATION": location,
            "OPTIONS": {**options, "SOCKET_CONNECT_TIMEOUT": 0.1, "SOCKET_TIMEOUT": 0.1},
        }
    }


@pytest.mark.django_db
@pytest.mark.parametrize(
    "url", ["redis+sentinel://127.0.0.1:1/unreachable/0", "redis+cluster://127.0.0.1:1"]
)
def test_an_unreachable_topology_degrades_instead_of_failing(
    url: str, make_user: Callable[..., User]
) -> None:
    user = make_user(full_name="Carol")
    with override_settings(CACHES=caches_for(url), REDIS_URL=url):
        detail = APIClient().get(f"/api/users/{user.pk}/")
        health = APIClient().get("/api/health/")
    assert (detail.status_code, detail["X-Cache"]) == (200, "BYPASS")
    assert detail.json()["full_name"] == "Carol"
    assert health.status_code == 503
    assert health.json()["redis"].startswith("unavailable")
