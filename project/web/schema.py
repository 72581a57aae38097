"""The OpenAPI schema as the API really answers (``DEFAULT_SCHEMA_CLASS``).

drf-spectacular documents what a view returns when it succeeds. This schema class adds, in
one place for every operation, the errors it can give and who may call it:

- the error responses each operation can really give, derived from the view as DRF runs
  it: 400 with a request body or validated query parameters, 403 where a permission can
  refuse or an unsafe request needs the CSRF token (session authentication sends no
  ``WWW-Authenticate``, so DRF answers 403, never 401), 404 with a path parameter or a
  page number, 415 with a request body, 429 where throttles apply, 503 wherever Redis
  stands behind the answer (the session, a throttle, the data); a view declares any other
  (``OpenApiResponse`` without a body) and gets the same JSON error body;
- ``{}`` in ``security`` for every operation the view's permissions admit anonymous
  clients to (drf-spectacular knows only ``AllowAny`` and ``IsAuthenticatedOrReadOnly``).

The bodies are those of ``project.web.errors``: ``{"detail": "..."}``, a validation error's
``{"field": ["message", ...]}``, a throttled request's ``wait``.
"""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import AnonymousUser
from drf_spectacular.openapi import AutoSchema as SpectacularAutoSchema
from drf_spectacular.plumbing import ComponentRegistry, ResolvedComponent
from rest_framework.authentication import SessionAuthentication
from rest_framework.permissions import SAFE_METHODS
from rest_framework.request import Request
from rest_framework.test import APIRequestFactory

ERROR: dict[str, Any] = {
    "type": "object",
    "description": "An error, said in one sentence.",
    "properties": {"detail": {"type": "string"}},
    "required": ["detail"],
}
THROTTLED: dict[str, Any] = {
    "type": "object",
    "description": "A throttled request: ``wait`` is the seconds of ``Retry-After``.",
    "properties": {"detail": {"type": "string"}, "wait": {"type": "integer", "minimum": 0}},
    "required": ["detail"],
}
VALIDATION_ERROR: dict[str, Any] = {
    "type": "object",
    "description": (
        "A body or query that did not validate: a list of messages per field, "
        "``non_field_errors`` for the whole; a list field's messages are keyed by index."
    ),
    "minProperties": 1,
    "additionalProperties": {
        "oneOf": [{"type": "array", "items": {"type": "string"}}, {"type": "object"}]
    },
}
COMPONENTS = {"Error": ERROR, "Throttled": THROTTLED, "ValidationError": VALIDATION_ERROR}

RETRY_AFTER: dict[str, Any] = {
    "schema": {"type": "integer", "minimum": 0},
    "description": "Seconds to wait before retrying.",
}

# Status: (description, body components, Retry-After required (True), optional, or absent).
STATUSES: dict[int, tuple[str, tuple[str, ...], bool | None]] = {
    400: (
        "Invalid request: a body or query that does not parse or validate, a request too "
        "large for Django",
        ("Error", "ValidationError"),
        None,
    ),
    403: (
        "Not signed in, not allowed, or an unsafe request without a valid CSRF token "
        "(``X-CSRFToken``, from ``/api/auth/csrf/``)",
        ("Error",),
        None,
    ),
    404: ("No such object (a malformed id included), or no such page", ("Error",), None),
    415: ("The body is not JSON, a form or multipart", ("Error",), None),
    429: ("Throttled: retry after ``Retry-After`` seconds", ("Throttled",), False),
    503: (
        "Redis is unavailable (sessions, throttles or the data of this answer): retry after "
        "``Retry-After`` seconds",
        ("Error",),
        True,
    ),
}


class AutoSchema(SpectacularAutoSchema):
    def get_operation(
        self,
        path: str,
        path_regex: str,
        path_prefix: str,
        method: str,
        registry: ComponentRegistry,
    ) -> dict[str, Any] | None:
        operation = super().get_operation(path, path_regex, path_prefix, method, registry)
        if operation is None:
            return None
        responses = operation["responses"]
        for code in sorted(self.error_statuses(operation) | self._declared_errors(responses)):
            responses[str(code)] = self._error_response(code, responses.get(str(code)))
        operation["responses"] = dict(sorted(responses.items()))
        return operation

    def get_auth(self) -> list[dict[str, Any]]:
        auths = super().get_auth()
        if {} not in auths and self.admits_anonymous():
            auths.append({})
        return auths

    def error_statuses(self, operation: dict[str, Any]) -> set[int]:
        """The error statuses this operation can answer, from its view as DRF runs it."""
        parameters = operation.get("parameters", [])
        paging = {parameter["name"] for parameter in self._get_pagination_parameters()}
        body = "requestBody" in operation
        validated_query = any(p["in"] == "query" and p["name"] not in paging for p in parameters)
        throttled = bool(self.view.get_throttles())
        authenticated = bool(self.view.get_authenticators())
        statuses = set()
        if body or validated_query:
            statuses.add(400)
        if self.refuses_someone():
            statuses.add(403)
        if paging or any(parameter["in"] == "path" for parameter in parameters):
            statuses.add(404)
        if body:
            statuses.add(415)
        if throttled:
            statuses.add(429)
        if throttled or authenticated:  # throttles and sessions live in Redis
            statuses.add(503)
        return statuses

    def admits_anonymous(self) -> bool:
        """Do the view's permissions let an anonymous client call this operation?"""
        request = Request(APIRequestFactory().generic(self.method, "/"))
        request.user = AnonymousUser()
        return all(
            permission.has_permission(request, self.view)
            for permission in self.view.get_permissions()
        )

    def refuses_someone(self) -> bool:
        """Can this operation answer 403: a permission that refuses anonymous clients, or
        an unsafe method under session authentication (CSRF; object permissions)?"""
        csrf = self.method not in SAFE_METHODS and any(
            isinstance(authenticator, SessionAuthentication)
            for authenticator in self.view.get_authenticators()
        )
        return csrf or not self.admits_anonymous()

    @staticmethod
    def _declared_errors(responses: dict[str, Any]) -> set[int]:
        """Error statuses a view declared without a body: they get the JSON error body."""
        return {
            int(code)
            for code, response in responses.items()
            if code.isdigit() and int(code) in STATUSES and not response.get("content")
        }

    def _error_response(self, code: int, declared: dict[str, Any] | None) -> dict[str, Any]:
        description, names, retry_after = STATUSES[code]
        refs = [self._component(name) for name in names]
        schema: dict[str, Any] = refs[0] if len(refs) == 1 else {"anyOf": refs}
        declared = declared or {}
        shown = declared.get("content", {}).get("application/json", {}).get("schema")
        if shown is not None:  # the view's own body for this status, or the error's
            schema = {"anyOf": [shown, *(schema.get("anyOf") or [schema])]}
        response: dict[str, Any] = {
            **declared,
            "description": declared.get("description") or description,
            "content": {**declared.get("content", {}), "application/json": {"schema": schema}},
        }
        if retry_after is not None:
            response["headers"] = {
                **declared.get("headers", {}),
                "Retry-After": {**RETRY_AFTER, "required": retry_after},
            }
        return response

    def _component(self, name: str) -> dict[str, str]:
        component = ResolvedComponent(
            name=name, type=ResolvedComponent.SCHEMA, object=name, schema=COMPONENTS[name]
        )
        self.registry.register_on_missing(component)
        return component.ref
