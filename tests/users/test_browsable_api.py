"""The browsable API as a person uses it, in a real browser (Debian's headless Chromium) on
a live server (pytest-django's, in this process: the same test database and Redis): sign
in from the navbar, edit their own user through the HTML form, open Swagger UI offline.

``SCREENSHOTS=1`` also writes the pictures of docs/images/ (README, the browsable API)."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import pytest

from tests.clients import PASSWORD
from users.models import User

if TYPE_CHECKING:
    from selenium.webdriver.remote.webdriver import WebDriver

pytestmark = pytest.mark.redis

IMAGES = Path(__file__).resolve().parents[2] / "docs" / "images"


@pytest.fixture
def site(live_server: Any, settings: Any) -> str:
    """The live server's base URL; plain http on loopback, so cookies are not Secure."""
    settings.SESSION_COOKIE_SECURE = settings.CSRF_COOKIE_SECURE = False
    return str(live_server.url)


def screenshot(driver: WebDriver, name: str) -> None:
    if os.environ.get("SCREENSHOTS") == "1":
        IMAGES.mkdir(exist_ok=True)
        driver.save_screenshot(str(IMAGES / name))


def wait(driver: WebDriver, seconds: float = 15) -> Any:
    from selenium.webdriver.support.ui import WebDriverWait

    return WebDriverWait(driver, seconds)


def sign_in_from_the_navbar(driver: WebDriver, username: str) -> None:
    from selenium.webdriver.common.by import By

    driver.find_element(By.LINK_TEXT, "Sign in").click()
    driver.find_element(By.NAME, "username").send_keys(username)
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "input[type=submit]").click()


def test_a_person_signs_in_from_the_navbar_and_is_back_on_the_page(
    browser: WebDriver, site: str, make_user: Callable[..., User]
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as seen

    make_user(username="alice")
    driver = browser
    driver.get(site + "/api/users/")
    assert "Signed in as" not in driver.find_element(By.CSS_SELECTOR, ".navbar").text
    driver.find_element(By.LINK_TEXT, "Sign in").click()
    wait(driver).until(seen.presence_of_element_located((By.NAME, "username")))
    assert urlsplit(driver.current_url).path == "/api-auth/login/"
    driver.find_element(By.NAME, "username").send_keys("alice")
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    screenshot(driver, "browsable-api-sign-in.png")
    driver.find_element(By.CSS_SELECTOR, "input[type=submit]").click()

    wait(driver).until(seen.url_to_be(site + "/api/users/"))
    navbar = driver.find_element(By.CSS_SELECTOR, ".navbar")
    assert "Signed in as alice" in navbar.text
    assert driver.find_element(By.CSS_SELECTOR, "#sign-out button").text == "Sign out"

    driver.find_element(By.CSS_SELECTOR, "#sign-out button").click()
    wait(driver).until(seen.presence_of_element_located((By.LINK_TEXT, "Sign in")))
    assert urlsplit(driver.current_url).path == "/api/users/"
    assert "Signed in as" not in driver.find_element(By.CSS_SELECTOR, ".navbar").text


def test_a_person_edits_one_field_of_their_user_through_the_html_form(
    browser: WebDriver, site: str, make_user: Callable[..., User]
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as seen

    alice = make_user(username="alice", email="alice@example.com", full_name="Alice Liddell")
    driver = browser
    page = f"{site}/api/users/{alice.pk}/"
    driver.get(page)
    sign_in_from_the_navbar(driver, "alice")
    wait(driver).until(seen.url_to_be(page))

    form = driver.find_element(By.CSS_SELECTOR, "#put-object-form form")
    field = {name: form.find_element(By.NAME, name) for name in ("username", "email", "full_name")}
    assert {name: f.get_attribute("value") for name, f in field.items()} == {  # prefilled
        "username": "alice", "email": "alice@example.com", "full_name": "Alice Liddell",
    }  # fmt: skip
    driver.execute_script("arguments[0].scrollIntoView({block: 'center'})", form)
    screenshot(driver, "browsable-api.png")
    field["full_name"].clear()
    field["full_name"].send_keys("Alice Pleasance Liddell")
    form.find_element(By.ID, "patch-button").click()

    # ajax-form.js replaces the page with the response: the PATCH, and the new value.
    wait(driver).until(
        seen.text_to_be_present_in_element((By.CSS_SELECTOR, ".request-info"), "PATCH")
    )
    response = driver.find_element(By.CSS_SELECTOR, ".response-info").text
    assert "HTTP 200 OK" in response
    assert '"full_name": "Alice Pleasance Liddell"' in response
    assert '"username": "alice"' in response  # the fields left as they were, kept

    driver.get(page)  # a later GET
    assert (
        '"full_name": "Alice Pleasance Liddell"'
        in driver.find_element(By.CSS_SELECTOR, ".response-info").text
    )
    refilled = driver.find_element(By.CSS_SELECTOR, "#put-object-form [name=full_name]")
    assert refilled.get_attribute("value") == "Alice Pleasance Liddell"
    stored = User.objects.get(pk=alice.pk)
    assert (stored.username, stored.email, stored.full_name) == (
        "alice", "alice@example.com", "Alice Pleasance Liddell",
    )  # fmt: skip


@pytest.mark.django_db
def test_swagger_ui_renders_the_operations_from_this_server_only(
    browser: WebDriver, site: str
) -> None:
    from selenium.webdriver.common.by import By

    driver = browser
    driver.get(site + "/api/docs/")
    wait(driver, 20).until(lambda d: len(d.find_elements(By.CSS_SELECTOR, ".opblock")) >= 20)
    summaries = [e.text for e in driver.find_elements(By.CSS_SELECTOR, ".opblock-summary-path")]
    assert "/api/users/{id}/" in summaries
    fetched = driver.execute_script(
        "return performance.getEntriesByType('resource').map(e => e.name)"
    )
    assert any(urlsplit(url).path == "/api/schema/" for url in fetched)
    assert any("swagger-ui-bundle.js" in url for url in fetched)
    ours = urlsplit(site).netloc
    assert [url for url in fetched if urlsplit(url).netloc != ours] == []
