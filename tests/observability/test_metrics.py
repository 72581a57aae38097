"""``GET /metrics``: who may scrape it, and that what it says is current and exact."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.clients import BrowserClient
from tests.conftest import Outage
from users.models import User

pytestmark = [pytest.mark.redis, pytest.mark.django_db]


def scrape(client: Any, **headers: str) -> dict[tuple[str, tuple[tuple[str, str], ...]], float]:
    response = client.get("/metrics", **headers)
    assert response.status_code == 200, response.content
    assert response["Content-Type"].startswith("text/plain")
    return {
        (sample.name, tuple(sorted(sample.labels.items()))): sample.value
        for family in text_string_to_metric_families(response.content.decode())
        for sample in family.samples
    }


def value(samples: dict, name: str, **labels: str) -> float:
    return samples.get((name, tuple(sorted(labels.items()))), 0.0)


@pytest.fixture
def scraper(settings: Any) -> BrowserClient:
    """A scraper with the token: no session, so a scrape adds no read of its own."""
    settings.METRICS_TOKEN = "s3cret-scrape"
    return BrowserClient(HTTP_AUTHORIZATION="Bearer s3cret-scrape")


def test_anonymous_and_non_staff_get_a_403(
    make_user: Callable[..., User], api: BrowserClient
) -> None:
    response = api.get("/metrics")
    assert response.status_code == 403
    assert "METRICS_TOKEN" in response.json()["detail"]
    make_user(username="plain")
    api.sign_in("plain")
    assert api.get("/metrics").status_code == 403


def test_staff_and_a_scraper_with_the_token_get_in_and_a_wrong_token_does_not(
    make_user: Callable[..., User], api: BrowserClient, settings: Any
) -> None:
    make_user(username="ops", is_staff=True)
    api.sign_in("ops")
    assert scrape(api)
    api = BrowserClient()
    settings.METRICS_TOKEN = "s3cret-scrape"
    assert scrape(api, HTTP_AUTHORIZATION="Bearer s3cret-scrape")
    assert api.get("/metrics", HTTP_AUTHORIZATION="Bearer wrong").status_code == 403
    settings.METRICS_TOKEN = ""  # unset: no token opens it, not even an empty one
    assert api.get("/metrics", HTTP_AUTHORIZATION="Bearer ").status_code == 403


def test_twelve_cached_reads_are_twelve_more_hits_on_the_next_scrape(
    make_user: Callable[..., User], scraper: BrowserClient, new_api: Callable[..., BrowserClient]
) -> None:
    user = make_user(username="read-me")
    reader = new_api()
    assert reader.get(f"/api/users/{user.pk}/").status_code == 200  # fills the cache
    before = scrape(scraper)
    for _ in range(12):
        assert reader.get(f"/api/users/{user.pk}/").status_code == 200
    after = scrape(scraper)
    hits = "app_cache_events_total"
    assert value(after, hits, event="hit") - value(before, hits, event="hit") == 12
    assert value(after, hits, event="miss") == value(before, hits, event="miss")
    route = {"endpoint": "user-detail", "method": "GET", "status": "200"}
    requests = "app_http_requests_total"
    assert value(after, requests, **route) - value(before, requests, **route) == 12
    throttle = {"scope": "anon", "outcome": "admitted"}
    decisions = "app_throttle_decisions_total"
    assert value(after, decisions, **throttle) - value(before, decisions, **throttle) == 12
    assert value(after, "app_redis_up") == 1


def test_refusals_are_counted_by_scope(
    make_user: Callable[..., User], scraper: BrowserClient, new_api: Callable[..., BrowserClient],
    settings: Any,
) -> None:  # fmt: skip
    user = make_user(username="popular")
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "anon": "3/min"}
    before = scrape(scraper)
    reader = new_api()
    statuses = [reader.get(f"/api/users/{user.pk}/").status_code for _ in range(5)]
    assert statuses == [200, 200, 200, 429, 429]
    after = scrape(scraper)
    refused = {"scope": "anon", "outcome": "refused"}
    decisions = "app_throttle_decisions_total"
    assert value(after, decisions, **refused) - value(before, decisions, **refused) == 2
    route = {"endpoint": "user-detail", "method": "GET", "status": "429"}
    requests = "app_http_requests_total"
    assert value(after, requests, **route) - value(before, requests, **route) == 2


def test_the_stored_figures_are_read_at_scrape_time(
    scraper: BrowserClient, redis_client: Any
) -> None:
    from users import keys

    redis_client.hset(keys.counters_pending(), mapping={"1:v": 3, "2:v": 1})
    samples = scrape(scraper)
    assert value(samples, "app_writeback_pending_fields") == 2  # fields, not counts
    assert ("app_queue_jobs", (("state", "queued"),)) in samples


def test_redis_down_at_scrape_time_says_so_and_still_serves_the_counters(
    scraper: BrowserClient, redis_down: Outage
) -> None:
    samples = scrape(scraper)
    assert value(samples, "app_redis_up") == 0
    assert any(name == "app_http_requests_total" for name, _ in samples)
    assert ("app_queue_jobs", (("state", "queued"),)) not in samples  # not made up
