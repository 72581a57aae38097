"""How drf-spectacular documents a user: private fields are not promised in a response.

``UserSerializer`` shows ``email`` (``permissions.PRIVATE_FIELDS``) only to the user
themself and staff (``permissions.visible_to``), so the response schema may not require
it. Registered by ``UsersConfig.ready``.
"""

from __future__ import annotations

from typing import Any

from drf_spectacular.extensions import OpenApiSerializerExtension
from drf_spectacular.openapi import AutoSchema

from users.permissions import PRIVATE_FIELDS


class UserSchema(OpenApiSerializerExtension):
    target_class = "users.serializers.UserSerializer"  # not its subclasses: Register echoes

    def map_serializer(self, auto_schema: AutoSchema, direction: Any) -> dict[str, Any]:
        schema = super().map_serializer(auto_schema, direction)
        if direction != "response":
            return schema
        for name in PRIVATE_FIELDS:
            if name in schema.get("required", []):
                schema["required"].remove(name)
            shown = schema["properties"][name]
            shown["description"] = "Shown only to the user themself and to staff."
        return schema
