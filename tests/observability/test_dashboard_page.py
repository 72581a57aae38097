"""The dashboard as a person sees it, in headless Chromium, on gunicorn with two workers:
sign in to the admin, follow the index's link to Redis, use the API from elsewhere, and
watch the cache panel's numbers and charts move without reloading the page.

With ``SCREENSHOTS=1`` the test also saves docs/images/redis-dashboard.png."""

from __future__ import annotations

import os
import urllib.request
from collections.abc import Iterator
from pathlib import Path

import pytest
from selenium.webdriver.remote.webdriver import WebDriver

from tests.integration.servers import gunicorns, migrate, shell

pytestmark = pytest.mark.redis

PASSWORD = "a-Long-pass-123"
HITS = """
for (const dt of document.querySelectorAll("#panel-cache dt")) {
  if (dt.textContent === "hits") { return dt.nextElementSibling.textContent; }
}
return "";
"""
DOCS_IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[str, dict[str, str]]]:
    folder = tmp_path_factory.mktemp("dashboard")
    env = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{folder / 'db.sqlite3'}",
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "REDIS_KEY_PREFIX": "dashboard",
        "PROMETHEUS_MULTIPROC_DIR": str(folder / "metrics"),
    }
    migrate(env)
    shell(env, f"""
from users.models import User
User.objects.create_superuser("admin", "admin@example.com", {PASSWORD!r})
User.objects.create_user("reader", "reader@example.com", {PASSWORD!r})
""")  # fmt: skip
    with gunicorns(env, count=1, workers=2) as (base,):
        yield base, env


def read(base: str, path: str, times: int) -> None:
    for _ in range(times):
        urllib.request.urlopen(base + path, timeout=10).close()


def test_a_person_watches_the_cache_at_work(
    browser: WebDriver, server: tuple[str, dict[str, str]]
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support.ui import WebDriverWait

    base, env = server
    reader = shell(
        env, 'from users.models import User; print(User.objects.get(username="reader").pk)'
    )
    browser.get(base + "/admin/")
    browser.find_element(By.NAME, "username").send_keys("admin")
    browser.find_element(By.NAME, "password").send_keys(PASSWORD)
    browser.find_element(By.CSS_SELECTOR, "input[type=submit]").click()
    browser.find_element(By.LINK_TEXT, "Redis at work").click()
    assert browser.find_element(By.CSS_SELECTOR, "#panel-server table").text.count("\n") >= 1

    def hits() -> int:  # read in one script: the panels are replaced as they refresh
        text = browser.execute_script(HITS)
        return int(text) if text else -1

    before = hits()
    read(base, f"/api/users/{reader.strip()}/", 40)

    def counted(_: object) -> bool:
        # Each worker adds its counts with a response, every 2 s at most: keep both answering
        # (health checks read no cache) while the page refetches its panels every 5 s.
        read(base, "/api/health/", 4)
        return hits() >= before + 39

    WebDriverWait(browser, 30, poll_frequency=0.5).until(counted)
    lines = browser.execute_script(
        'return document.querySelectorAll("#panel-cache svg.chart polyline").length'
    )
    assert lines, "the cache panel draws no line"
    assert "refreshed" in browser.find_element(By.ID, "refreshed").text
    if os.environ.get("SCREENSHOTS"):
        DOCS_IMAGES.mkdir(parents=True, exist_ok=True)
        browser.set_window_size(1280, 2400)
        browser.save_screenshot(str(DOCS_IMAGES / "redis-dashboard.png"))
