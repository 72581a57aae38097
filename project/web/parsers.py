"""The API's JSON parser: DRF's, with nesting too deep for Python a 400, not a 500.

DRF's parser turns ``ValueError`` into a ``ParseError``; ``json.loads`` of a body nested
some thousand levels deep raises ``RecursionError`` instead, which any anonymous client
could send to any JSON endpoint, the sign-in included.
"""

from __future__ import annotations

from typing import Any

from rest_framework import parsers
from rest_framework.exceptions import ParseError


class JSONParser(parsers.JSONParser):
    def parse(self, stream: Any, media_type: str | None = None, parser_context: Any = None) -> Any:
        try:
            return super().parse(stream, media_type, parser_context)
        except RecursionError:
            raise ParseError("JSON parse error - nested too deeply.") from None
