"""The OpenAPI schema says what the API really answers (``project/web/schema.py``): who may
call each operation, the errors each can give, and the answers the fuzzer
(``test_fuzz.py``) cannot provoke, a throttled request and Redis down, checked against it."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client
from redis import RedisError
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from caching.services import cache_service
from tests.conftest import Outage
from tests.project.web.test_fuzz import schema as fuzzed
from users.models import User

# The answers come through the WSGI handler, whose request_finished closes the database
# connection: inside a test transaction that breaks PostgreSQL, so these tests commit.
pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

CONFORMANCE = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
PUBLIC = [
    ("GET", "/api/users/"),
    ("POST", "/api/users/"),
    ("GET", "/api/users/{id}/"),
    ("GET", "/api/users/{id}/tags/"),
    ("GET", "/api/users/{id}/rank/"),
    ("GET", "/api/leaderboard/"),
    ("GET", "/api/tags/common/"),
    ("GET", "/api/tags/{tag}/users/"),
    ("GET", "/api/auth/csrf/"),
    ("POST", "/api/auth/login/"),
    ("GET", "/api/health/"),
]


@pytest.fixture(scope="module")
def spec() -> dict[str, Any]:
    return fuzzed.raw_schema


def operations(spec: dict[str, Any]) -> list[tuple[str, str, dict[str, Any]]]:
    return [
        (method.upper(), path, operation)
        for path, item in spec["paths"].items()
        for method, operation in item.items()
    ]


def test_anonymous_clients_may_call_exactly_the_public_operations(spec: dict[str, Any]) -> None:
    anonymous = {(method, path) for method, path, op in operations(spec) if {} in op["security"]}
    assert anonymous == set(PUBLIC)


def test_error_statuses_are_documented_only_where_they_can_happen(spec: dict[str, Any]) -> None:
    for method, path, operation in operations(spec):
        codes = set(operation["responses"])
        where = f"{method} {path}: {sorted(codes)}"
        assert "401" not in codes, where  # session authentication: DRF answers 403
        lookup = "{" in path or (method, path) in {("GET", "/api/users/"), ("GET", "/api/auth/me/")}
        assert ("404" in codes) == lookup, where  # an id, a page number, the signed-in user
        assert ("415" in codes) == ("requestBody" in operation), where
        if path == "/api/health/":  # no session, no throttle: only its own 503
            assert codes == {"200", "503"}, where
            continue
        assert {"429", "503"} <= codes, where
        assert operation["responses"]["503"]["headers"]["Retry-After"]["required"], where
        if (method, path) not in PUBLIC or method not in ("GET", "HEAD"):
            assert "403" in codes, where
        else:
            assert "403" not in codes, where


def test_errors_are_json_with_a_detail_or_messages_per_field(spec: dict[str, Any]) -> None:
    login = spec["paths"]["/api/auth/login/"]["post"]["responses"]
    bad = login["400"]["content"]["application/json"]["schema"]
    assert bad == {
        "anyOf": [
            {"$ref": "#/components/schemas/Error"},
            {"$ref": "#/components/schemas/ValidationError"},
        ]
    }
    components = spec["components"]["schemas"]
    assert components["Error"]["required"] == ["detail"]
    assert components["ValidationError"]["additionalProperties"]["oneOf"][0] == {
        "type": "array",
        "items": {"type": "string"},
    }


def test_email_is_promised_only_where_the_viewer_always_sees_it(spec: dict[str, Any]) -> None:
    components = spec["components"]["schemas"]
    assert "email" not in components["User"]["required"]  # others see no email
    assert "email" in components["UserRequest"]["required"]  # PUT asks for it
    assert "email" in components["Register"]["required"]  # the registrant gets it back


def answer(method: str, path: str, client: Client, **parameters: Any) -> Any:
    """``client``'s answer to the operation, and the case that checks it against the schema."""
    case = fuzzed[path][method].Case(**parameters)
    cookies = {name: morsel.value for name, morsel in client.cookies.items()}
    return case, case.call(cookies=cookies)


def test_a_throttled_request_is_answered_as_documented(settings: Any) -> None:
    settings.THROTTLE_RATES = {**settings.THROTTLE_RATES, "anon": "1/min"}
    answer("GET", "/api/leaderboard/", Client())
    case, response = answer("GET", "/api/leaderboard/", Client())
    assert response.status_code == 429
    assert {name.lower() for name in response.headers} >= {"retry-after"}
    case.validate_response(response, checks=CONFORMANCE)


def test_redis_down_is_answered_as_documented(redis_down: Outage) -> None:
    case, response = answer("GET", "/api/leaderboard/", Client())  # the answer lives in Redis
    assert response.status_code == 503
    case.validate_response(response, checks=CONFORMANCE)


def test_redis_down_under_a_session_is_answered_as_documented(
    make_user: Callable[..., User], redis_down: Outage
) -> None:
    client = Client()
    redis_down.end()
    client.force_login(make_user())
    redis_down.begin()
    case, response = answer("GET", "/api/users/", client)  # the session cannot be read
    assert response.status_code == 503
    case.validate_response(response, checks=CONFORMANCE)


def test_cache_stats_without_redis_are_answered_as_documented(
    make_user: Callable[..., User], monkeypatch: pytest.MonkeyPatch
) -> None:
    client = Client()
    client.force_login(make_user(is_staff=True))

    def unreachable() -> dict[str, int]:
        raise RedisError("Redis is unreachable")

    monkeypatch.setattr(cache_service, "flush_metrics", unreachable)
    case, response = answer("GET", "/api/cache/stats/", client)
    assert response.status_code == 503
    case.validate_response(response, checks=CONFORMANCE)
