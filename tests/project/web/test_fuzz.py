"""Property-based fuzzing of every API operation from the project's own OpenAPI schema
(schemathesis, in process through WSGI), anonymous, signed in and as staff: whatever it
sends, never a 5xx (but a 503 that says when to retry), every error is JSON, and every
answer is one the schema documents: its status, its content type and its body."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from django.test import Client
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from project.wsgi import application
from tests.clients import PASSWORD
from users import leaderboard
from users import tags as tag_index
from users.models import User

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

EXAMPLES = 10  # per operation and role: bounded, so the suite stays fast
# The status, the content type, the headers (Retry-After) and the body are documented.
CONFORMANCE = [
    status_code_conformance,
    content_type_conformance,
    response_headers_conformance,
    response_schema_conformance,
]
SEEN: Counter[str] = Counter()
FAILED: Counter[str] = Counter()


def load_schema() -> Any:
    """The schema as drf-spectacular makes it (what /api/schema/ serves), run in process."""
    from drf_spectacular.generators import SchemaGenerator

    loaded = schemathesis.openapi.from_dict(SchemaGenerator().get_schema(request=None, public=True))
    loaded.app = application
    return loaded


schema = load_schema()


@pytest.fixture(scope="module", autouse=True)
def report() -> Iterator[None]:
    yield
    failed = ", ".join(f"{label} ({count})" for label, count in sorted(FAILED.items()))
    print(
        f"\nfuzz: {len(SEEN)} operations, {sum(SEEN.values())} requests, "
        f"{sum(FAILED.values())} failed{': ' + failed if failed else ''}"
    )


@pytest.fixture(params=["anonymous", "user", "staff"])
def credentials(request: pytest.FixtureRequest, make_user: Callable[..., User]) -> dict:
    """Cookies and the CSRF header of a client signed in as ``request.param``, and the ids
    of the users there are: someone else (with tags and points) and, signed in, oneself."""
    other = make_user(username="other")
    tag_index.set_tags(user=other, tags=["redis", "django"])
    leaderboard.add_points(user_id=other.pk, delta=5)
    if request.param == "anonymous":
        return {"cookies": {}, "headers": {}, "users": [other.pk]}
    me = make_user(username="fuzzer", is_staff=request.param == "staff")
    client = Client()
    client.post("/api/auth/login/", {"username": "fuzzer", "password": PASSWORD},
                content_type="application/json")  # fmt: skip
    client.get("/api/auth/csrf/")
    cookies = {name: morsel.value for name, morsel in client.cookies.items()}
    return {
        "cookies": cookies,
        "headers": {"X-CSRFToken": cookies.get("csrftoken", "")},
        "users": [other.pk, me.pk],
    }


def aim(case: Any, users: list[int]) -> None:
    """An even user id Hypothesis drew names a user that exists, so that answers about
    real users (reads, updates, deletions) are checked too; odd ones stay as drawn."""
    drawn = (case.path_parameters or {}).get("id")
    if isinstance(drawn, int) and not isinstance(drawn, bool) and drawn % 2 == 0:
        case.path_parameters["id"] = users[(drawn // 2) % len(users)]


@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
)
def test_every_answer_is_documented_and_no_server_error(case: Any, credentials: dict) -> None:
    aim(case, credentials["users"])
    response = case.call(cookies=credentials["cookies"], headers=credentials["headers"])
    SEEN[case.operation.label] += 1
    status = response.status_code
    headers = {name.lower(): values[0] for name, values in response.headers.items()}
    where = f"{case.method} {case.formatted_path} -> {status}"
    try:
        assert status < 500 or (status == 503 and "retry-after" in headers), (
            f"{where}: {response.text[:300]}"
        )
        if status >= 400:
            assert headers.get("content-type", "").startswith("application/json"), (
                f"{where} is not JSON"
            )
        case.validate_response(response, checks=CONFORMANCE)
    except BaseException:  # counted for the summary, then raised as it was
        FAILED[f"{case.operation.label} {status}"] += 1
        raise
