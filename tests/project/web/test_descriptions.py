"""Every view's description in the browsable API (its docstring, through
``VIEW_DESCRIPTION_FUNCTION``): ``literals`` as code, never as backticks."""

from __future__ import annotations

from typing import Any

import pytest
from rest_framework.schemas.generators import EndpointEnumerator
from rest_framework.views import APIView

from project.web.views import view_description
from tests.clients import BrowserClient

pytestmark = [pytest.mark.redis, pytest.mark.django_db]


def views() -> list[tuple[str, str, Any]]:
    """Every API endpoint (path, method) and its view, as DRF builds it for a request."""
    found = []
    for path, method, callback in EndpointEnumerator().get_api_endpoints():
        if not path.startswith("/api/"):
            continue
        view = callback.cls(**getattr(callback, "initkwargs", {}))
        actions = getattr(callback, "actions", None)
        if actions:
            view.action_map = actions
            view.action = actions.get(method.lower())
        found.append((path, method, view))
    return found


def test_every_endpoint_is_checked() -> None:
    paths = {path for path, _, _ in ENDPOINTS}
    assert {"/api/users/{pk}/", "/api/auth/sessions/", "/api/health/", "/api/"} <= paths
    assert len(paths) > 20


ENDPOINTS = views()


@pytest.mark.parametrize(
    ("path", "method", "view"), ENDPOINTS, ids=[f"{m} {p}" for p, m, _ in ENDPOINTS]
)
def test_no_description_shows_rest_markup(path: str, method: str, view: APIView) -> None:
    html = view.get_view_description(html=True)
    assert html.startswith("<p>") or (html == "" and path == "/api/docs/"), html  # a page
    assert "``" not in html
    assert "<br" not in html  # lines of a paragraph are one paragraph, as written


def test_literals_are_code_paragraphs_stay_and_the_rest_is_escaped() -> None:
    class Example(APIView):
        """Send ``{"tags": [...]}`` to replace
        the <b>tags</b> & more.

        A second paragraph."""

    assert view_description(Example(), html=True) == (
        "<p>Send <code>{&quot;tags&quot;: [...]}</code> to replace the &lt;b&gt;tags&lt;/b&gt;"
        " &amp; more.</p><p>A second paragraph.</p>"
    )
    assert view_description(Example()).startswith('Send ``{"tags": [...]}`` to replace\n')


def test_the_session_list_page_shows_its_literal_as_code(make_user: Any) -> None:
    make_user(username="alice")
    client = BrowserClient()
    client.sign_in("alice")
    html = client.get("/api/auth/sessions/", HTTP_ACCEPT="text/html").content.decode()
    assert "<p>My live sessions; <code>id</code> is opaque (never the session key).</p>" in html
    assert "``" not in html


def test_options_still_give_the_docstring_as_written() -> None:
    response = BrowserClient().options("/api/tags/common/")
    assert response.json()["description"] == (
        "Tags shared by all of ``?users=1,2,3``, or held by any of ``?any=1,2``."
    )
