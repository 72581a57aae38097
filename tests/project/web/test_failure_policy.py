"""docs/failure-policy.md is the contract: every endpoint in its table answers, with Redis
down, the status the table gives (anonymously), and a 503 with ``Retry-After`` with a
session cookie; every 503 says when to retry and every API answer is JSON."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import pytest
from django.test import Client

from tests.clients import PASSWORD, BrowserClient
from tests.conftest import Outage
from users.models import User

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

POLICY = Path(__file__).resolve().parents[3] / "docs" / "failure-policy.md"
ROW = re.compile(r"^\| `(GET|POST|PUT|PATCH|DELETE) (/[^`]*)` \| (\d{3}) \|", re.MULTILINE)
ROWS = [(method, path, int(status)) for method, path, status in ROW.findall(POLICY.read_text())]

NOT_JSON = ("/api/docs/", "/api/schema/")  # an HTML page and a YAML document (when they answer)
BODIES: dict[tuple[str, str], dict[str, Any]] = {
    ("POST", "/api/users/"): {
        "username": "newcomer", "email": "newcomer@example.com", "password": "a-Long-pass-123",
    },
    ("PUT", "/api/users/{id}/"): {"username": "owner", "email": "owner@example.com"},
    ("PATCH", "/api/users/{id}/"): {"full_name": "Changed"},
    ("POST", "/api/users/{id}/points/"): {"delta": 5},
    ("PUT", "/api/users/{id}/tags/"): {"tags": ["python"]},
    ("POST", "/api/auth/login/"): {"username": "owner", "password": PASSWORD},
    ("POST", "/api/auth/password/"): {
        "old_password": PASSWORD, "new_password": "Another-long-pass-9",
    },
    ("POST", "/admin/login/"): {"username": "owner", "password": PASSWORD},
}  # fmt: skip


def test_the_table_lists_every_api_endpoint() -> None:
    from drf_spectacular.generators import SchemaGenerator

    schema = SchemaGenerator().get_schema(request=None, public=True)
    documented = {(m.upper(), p) for p, item in schema["paths"].items() for m in item}
    listed = {(method, path) for method, path, _ in ROWS}
    assert documented - listed == set()


def call(api: BrowserClient, admin: Client, method: str, path: str, owner: User) -> Any:
    body = BODIES.get((method, path), {})
    real = path.format(id=owner.pk, tag="python", session_id="nosuchsession")
    if path.startswith("/admin/"):
        form = "application/x-www-form-urlencoded"
        return admin.generic(method, real, urlencode(body), content_type=form)
    if method == "GET":
        return api.get(real)
    token = api.cookies["csrftoken"].value  # fetched while Redis was up
    return api.generic(
        method, real, json.dumps(body), content_type="application/json", HTTP_X_CSRFTOKEN=token
    )


@pytest.mark.parametrize("signed_in", [False, True], ids=["anonymous", "with a session"])
def test_every_endpoint_answers_as_the_policy_says_with_redis_down(
    signed_in: bool, make_user: Any, redis_down: Outage
) -> None:
    redis_down.end()
    owner = make_user(username="owner", email="owner@example.com")
    api, admin = BrowserClient(), Client()
    api.csrf()
    if signed_in:
        api.sign_in("owner")
        assert admin.login(username="owner", password=PASSWORD)
    redis_down.begin()
    wrong = []
    for method, path, status in ROWS:
        response = call(api, admin, method, path, owner)
        expected = 503 if signed_in else status
        if response.status_code != expected:
            wrong.append(f"{method} {path}: {response.status_code}, the policy says {expected}")
        if response.status_code == 503 and not response.get("Retry-After"):
            wrong.append(f"{method} {path}: a 503 without Retry-After")
        content_type = response.get("Content-Type", "")
        if path.startswith("/api/") and path not in NOT_JSON and "json" not in content_type:
            wrong.append(f"{method} {path}: {response.get('Content-Type')}, not JSON")
    assert wrong == []
