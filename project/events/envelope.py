"""The event envelope: versioned JSON, checked field by field when read.

Envelope (``v`` 1)::

    {"v": 1, "id": "<uuid hex>", "type": "user.updated", "at": "<ISO 8601>",
     "user_id": 42, "data": {"changed": ["full_name"]}}
"""

from __future__ import annotations

import json
import uuid
from dataclasses import asdict, dataclass, field
from typing import Any

from django.utils import timezone

VERSION = 1


@dataclass(frozen=True)
class Event:
    type: str
    user_id: int | None
    data: dict[str, Any] = field(default_factory=dict)
    id: str = field(default_factory=lambda: uuid.uuid4().hex)
    at: str = field(default_factory=lambda: timezone.now().isoformat())
    v: int = VERSION

    def to_json(self) -> str:
        return json.dumps(asdict(self), separators=(",", ":"), sort_keys=True)

    @classmethod
    def from_json(cls, raw: bytes | str) -> Event:
        """Parse and check an envelope; ValueError says what is wrong with it."""
        try:
            body = json.loads(raw)
        except (json.JSONDecodeError, UnicodeDecodeError) as exc:
            raise ValueError(f"not JSON: {exc}") from None
        except RecursionError:  # a poison message must not kill its consumer
            raise ValueError("JSON nested too deeply") from None
        if not isinstance(body, dict):
            raise ValueError("not an object")
        if type(body.get("v")) is not int or body["v"] != VERSION:  # true == 1 in Python
            raise ValueError(f"unknown envelope version {body.get('v')!r}")
        checks = {
            "id": isinstance(body.get("id"), str) and body["id"],
            "type": isinstance(body.get("type"), str) and body["type"],
            "at": isinstance(body.get("at"), str),
            "user_id": body.get("user_id") is None or type(body.get("user_id")) is int,
            "data": isinstance(body.get("data"), dict),
        }
        wrong = [name for name, ok in checks.items() if not ok]
        if wrong:
            raise ValueError(f"bad fields: {', '.join(wrong)}")
        return cls(**{name: body[name] for name in ("type", "user_id", "data", "id", "at", "v")})
