"""DRF's exception handler, plus what our errors need to say."""

from __future__ import annotations

from typing import Any

from rest_framework.exceptions import Throttled
from rest_framework.response import Response
from rest_framework.views import exception_handler


def api_exception_handler(exc: Exception, context: dict[str, Any]) -> Response | None:
    response = exception_handler(exc, context)
    if response is None:
        return None
    # Throttled.__init__ sets .wait (whole seconds or None); the DRF stubs leave it out.
    wait = exc.wait if isinstance(exc, Throttled) else None  # type: ignore[attr-defined]
    if wait is not None:
        response.data["wait"] = wait  # seconds, as in Retry-After
    retry_after = getattr(exc, "retry_after", None)
    if retry_after:
        response["Retry-After"] = str(retry_after)
    return response
