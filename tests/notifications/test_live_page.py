"""The page a person opens, in a real browser (Debian's headless Chromium): sign in on it,
watch it go live, award points from another process and see them appear."""

from __future__ import annotations

import pytest
from selenium.webdriver.remote.webdriver import WebDriver

from tests.notifications.conftest import PASSWORD, award, signed_in

pytestmark = pytest.mark.redis


def test_a_person_signs_in_and_sees_points_arrive(
    browser: WebDriver, server: str, env: dict[str, str]
) -> None:
    from selenium.webdriver.common.by import By
    from selenium.webdriver.support import expected_conditions as seen
    from selenium.webdriver.support.ui import WebDriverWait

    driver = browser
    signed_in(server, env, "frank")  # creates frank (and signs in another session)
    driver.get(server + "/notifications/")
    driver.find_element(By.NAME, "username").send_keys("frank")
    driver.find_element(By.NAME, "password").send_keys(PASSWORD)
    driver.find_element(By.CSS_SELECTOR, "#sign-in button").click()
    wait = WebDriverWait(driver, 15)
    wait.until(seen.text_to_be_present_in_element((By.ID, "state"), "live"))
    assert driver.find_element(By.ID, "who").text == "frank"

    award(env, "frank", 5)  # another process, after its commit
    item = wait.until(
        seen.presence_of_element_located((By.CSS_SELECTOR, 'li[data-type="points.awarded"]'))
    )
    assert "+5 points (now 5)" in item.text
    award(env, "frank", 2)
    wait.until(lambda d: len(d.find_elements(By.CSS_SELECTOR, "#notifications li")) == 2)
    newest = driver.find_elements(By.CSS_SELECTOR, "#notifications li")[0]
    assert "+2 points (now 7)" in newest.text
