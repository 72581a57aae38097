from __future__ import annotations

from collections.abc import Callable

import pytest
from django.core.management import CommandError, call_command
from django.test import Client, override_settings

from users.models import User

# The user admin's tag inline expects its management form.
pytestmark = [pytest.mark.redis, pytest.mark.django_db]


@pytest.fixture
def admin_client_(make_user: Callable[..., User]) -> Client:
    client = Client()
    client.force_login(make_user(username="root", is_staff=True, is_superuser=True))
    return client


def test_admin_searches_users_by_email(
    admin_client_: Client, make_user: Callable[..., User]
) -> None:
    make_user(username="findme", email="needle@example.com")
    make_user(username="other")
    response = admin_client_.get("/admin/users/user/", {"q": "needle"})
    assert response.status_code == 200
    assert b"findme" in response.content
    assert b"other" not in response.content


def test_admin_add_and_change_pages_render(
    admin_client_: Client, make_user: Callable[..., User]
) -> None:
    user = make_user()
    assert admin_client_.get("/admin/users/user/add/").status_code == 200
    page = admin_client_.get(f"/admin/users/user/{user.pk}/change/")
    assert page.status_code == 200
    assert b"Updated at" in page.content  # timestamps shown read-only


def test_the_change_page_says_what_waits_in_redis_for_the_next_flush(
    admin_client_: Client, make_user: Callable[..., User]
) -> None:
    from users import counters

    user = make_user()
    for _ in range(3):
        counters.count_view(user.pk)
    page = admin_client_.get(f"/admin/users/user/{user.pk}/change/").content.decode()
    assert "3 views, 0 logins (the API shows 3 and 0)" in page
    assert "every COUNTER_FLUSH_SECONDS" in page


def test_admin_creates_a_user_with_email(
    admin_client_: Client, no_inline_tags: dict[str, str]
) -> None:
    response = admin_client_.post(
        "/admin/users/user/add/",
        {
            "username": "newbie",
            "email": "newbie@example.com",
            "full_name": "New Bie",
            "usable_password": "true",
            **no_inline_tags,
            "password1": "correct-Horse-battery-9",
            "password2": "correct-Horse-battery-9",
        },
    )
    assert response.status_code == 302, response.content
    assert User.objects.get(username="newbie").email == "newbie@example.com"


@override_settings(DEBUG=False)
def test_demo_admin_refuses_without_debug() -> None:
    with pytest.raises(CommandError, match="DJANGO_DEBUG"):
        call_command("demo_admin")


def test_demo_admin_creates_a_staff_account_that_can_sign_in(
    settings, tmp_path, capsys: pytest.CaptureFixture[str]
) -> None:
    settings.DEBUG = True
    settings.VAR_DIR = tmp_path
    call_command("demo_admin")
    password = capsys.readouterr().out.split("password ")[1].strip()
    call_command("demo_admin")  # idempotent: same account, same password
    assert password in capsys.readouterr().out
    assert User.objects.filter(username="admin", is_staff=True).count() == 1
    assert Client().login(username="admin", password=password)


@pytest.mark.standalone
def test_the_admin_index_warns_when_redis_may_evict_what_the_project_keeps(
    admin_client_: Client, redis_config: Callable[..., None]
) -> None:
    redis_config(maxmemory=1 << 30, maxmemory_policy="allkeys-random")
    page = admin_client_.get("/admin/")
    assert page.status_code == 200
    assert b'id="redis-warnings"' in page.content
    assert b"maxmemory-policy allkeys-random can evict" in page.content
