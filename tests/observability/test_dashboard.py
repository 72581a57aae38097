"""``/admin/redis/``: staff only, linked from the admin index, every panel drawn from what
the processes counted, and a clear message when Redis cannot be read."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import RequestFactory

from observability.views import dashboard
from project.web import observed
from tests.clients import BrowserClient
from tests.conftest import Outage
from users.models import User

pytestmark = [pytest.mark.redis, pytest.mark.django_db]

PANELS = ("server", "requests", "cache", "throttles", "sessions", "events", "queues",
          "writeback", "memory")  # fmt: skip


def empty_buckets(redis_client: Any) -> None:
    """What earlier tests counted in this process is added to the buckets, then dropped."""
    observed.series.flush()
    for key in redis_client.scan_iter(match=observed.series_key(0)[:-1] + "*"):
        redis_client.delete(key)


@pytest.fixture
def flush_every_response(monkeypatch: pytest.MonkeyPatch, redis_client: Any) -> None:
    """Each response adds this process's counts to the buckets (not every few seconds)."""
    monkeypatch.setattr(observed, "FLUSH_SECONDS", 0.0)
    monkeypatch.setattr(observed.series, "_next", 0.0)
    empty_buckets(redis_client)


@pytest.fixture
def staff(make_user: Callable[..., User], api: BrowserClient) -> BrowserClient:
    make_user(username="ops", is_staff=True)
    api.sign_in("ops")
    return api


def number(html: str, panel: str, label: str) -> str:
    section = html.split(f'id="panel-{panel}"', 1)[1].split("</section>", 1)[0]
    found = re.search(rf"<dt>{re.escape(label)}</dt><dd>([^<]*)</dd>", section)
    assert found, f"no {label!r} in the {panel} panel"
    return found.group(1)


def test_only_staff_see_it(make_user: Callable[..., User], api: BrowserClient) -> None:
    response = api.get("/admin/redis/")
    assert response.status_code == 302
    assert response["Location"].startswith("/admin/login/")
    make_user(username="plain")
    api.sign_in("plain")
    assert api.get("/admin/redis/").status_code == 302


def test_the_admin_index_links_to_it(staff: BrowserClient) -> None:
    html = staff.get("/admin/").content.decode()
    assert 'href="/admin/redis/"' in html


def test_every_panel_is_drawn_with_the_counts_of_the_traffic(
    staff: BrowserClient, make_user: Callable[..., User],
    new_api: Callable[..., BrowserClient], flush_every_response: None,
) -> None:  # fmt: skip
    user = make_user(username="watched")
    reader = new_api()
    for _ in range(12):
        assert reader.get(f"/api/users/{user.pk}/").status_code == 200
    response = staff.get("/admin/redis/")
    assert response.status_code == 200
    html = response.content.decode()
    for panel in PANELS:
        assert f'id="panel-{panel}"' in html
    assert number(html, "cache", "hits") == "11"  # the first read was the miss that filled it
    misses = int(number(html, "cache", "misses"))  # that one and the staff's sign-in
    assert misses >= 1
    assert number(html, "cache", "hit ratio") == f"{100 * 11 / (11 + misses):.1f}%"
    assert html.count("<polyline") >= 5  # lines with data, not empty axes
    assert "maxmemory" in html
    assert "app:sessions:{*}" in html  # a key family in the memory table
    fragment = staff.get("/admin/redis/?panels=1").content.decode()  # what the page refetches
    assert 'id="panel-cache"' in fragment
    assert "<html" not in fragment


def test_the_page_shows_what_its_own_process_counted_since_its_last_flush(
    staff: BrowserClient, make_user: Callable[..., User],
    new_api: Callable[..., BrowserClient], monkeypatch: pytest.MonkeyPatch, redis_client: Any,
) -> None:  # fmt: skip
    """runserver is one process: its reads just before the page must be on it, though no
    response since added them to the buckets."""
    user = make_user(username="just-read")
    empty_buckets(redis_client)
    monkeypatch.setattr(observed.series, "_next", float("inf"))  # no response flushes
    reader = new_api()
    for _ in range(5):
        assert reader.get(f"/api/users/{user.pk}/").status_code == 200
    html = staff.get("/admin/redis/").content.decode()
    assert number(html, "cache", "hits") == "4"


def test_a_redis_that_cannot_be_read_is_a_message_not_a_500(
    make_user: Callable[..., User], redis_down: Outage
) -> None:
    request = RequestFactory().get("/admin/redis/")
    request.user = make_user(username="ops", is_staff=True)
    response: Any = dashboard(request)
    response.render()
    assert response.status_code == 200
    assert "Redis is unavailable" in response.content.decode()
