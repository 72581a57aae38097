"""Property-based fuzzing of every API operation from the project's own OpenAPI schema
(schemathesis, in process through WSGI), anonymous, signed in and as staff: whatever it
sends, never a 5xx (but a 503 that says when to retry), and every error is JSON."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterator
from typing import Any

import pytest
import schemathesis
from django.test import Client
from hypothesis import HealthCheck
from hypothesis import settings as hypothesis_settings

from project.wsgi import application
from tests.clients import PASSWORD
from users.models import User

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]

EXAMPLES = 10  # per operation and role: bounded, so the suite stays fast
SEEN: Counter[str] = Counter()


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
    print(f"\nfuzz: {len(SEEN)} operations, {sum(SEEN.values())} requests")


@pytest.fixture(params=["anonymous", "user", "staff"])
def credentials(request: pytest.FixtureRequest, make_user: Callable[..., User]) -> dict:
    """Cookies and the CSRF header of a client signed in as ``request.param``."""
    if request.param == "anonymous":
        return {"cookies": {}, "headers": {}}
    make_user(username="fuzzer", is_staff=request.param == "staff")
    client = Client()
    client.post("/api/auth/login/", {"username": "fuzzer", "password": PASSWORD},
                content_type="application/json")  # fmt: skip
    client.get("/api/auth/csrf/")
    cookies = {name: morsel.value for name, morsel in client.cookies.items()}
    return {"cookies": cookies, "headers": {"X-CSRFToken": cookies.get("csrftoken", "")}}


@schema.parametrize()
@hypothesis_settings(
    max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck), database=None
)
def test_no_operation_answers_a_server_error(case: Any, credentials: dict) -> None:
    response = case.call(cookies=credentials["cookies"], headers=credentials["headers"])
    SEEN[case.operation.label] += 1
    status = response.status_code
    headers = {name.lower(): values[0] for name, values in response.headers.items()}
    assert status < 500 or (status == 503 and "retry-after" in headers), (
        f"{case.method} {case.formatted_path} -> {status}: {response.text[:300]}"
    )
    if status >= 400:
        assert headers.get("content-type", "").startswith("application/json"), (
            f"{case.method} {case.formatted_path} -> {status} is not JSON"
        )
