"""HTTPS settings from the environment, and the deploy checks of this session engine.
Each case runs the settings in a fresh ``manage.py`` process, as a deployment would."""

from __future__ import annotations

from typing import Any

import pytest

SHOW = (
    "from django.conf import settings as s; "
    "print(s.SESSION_COOKIE_SECURE, s.CSRF_COOKIE_SECURE, s.SECURE_SSL_REDIRECT, "
    "s.SECURE_HSTS_SECONDS)"
)


@pytest.mark.parametrize(
    ("environ", "shown"),
    [
        ({}, "True True False 0"),  # production: Secure cookies, nothing hard to undo
        ({"DJANGO_DEBUG": "1"}, "False False False 0"),  # runserver over http
        ({"DJANGO_SECURE_COOKIES": "0"}, "False False False 0"),  # a plain-http deployment
        ({"DJANGO_SSL_REDIRECT": "1", "DJANGO_HSTS_SECONDS": "3600"}, "True True True 3600"),
    ],
)
def test_https_settings_follow_the_environment(
    manage: Any, environ: dict[str, str], shown: str
) -> None:
    run = manage("shell", "-c", SHOW, **{"DJANGO_DEBUG": "", **environ})
    assert run.returncode == 0, run.stderr
    assert run.stdout.strip().splitlines()[-1] == shown


def test_check_deploy_warns_of_a_session_cookie_sent_over_http(manage: Any) -> None:
    insecure = manage("check", "--deploy", DJANGO_DEBUG="", DJANGO_SECURE_COOKIES="0")
    secure = manage("check", "--deploy", DJANGO_DEBUG="")
    assert "redis_sessions.W010" in insecure.stderr + insecure.stdout
    assert "redis_sessions.W010" not in secure.stderr + secure.stdout
