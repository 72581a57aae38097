"""The ~300-byte record the hot path's floors render (bench/hot_urls.py) and the FastAPI
comparator's constant (bench/hot_fastapi.py): shaped like the app's cached user record
(users.serializers.UserRecordSerializer). No Django import: FastAPI's workers load it too."""

from __future__ import annotations

from typing import Any

FLOOR_KEY = "bench:hot:floor"
RECORD: dict[str, Any] = {
    "id": 123456,
    "username": "floor-user-123456",
    "email": "floor-user-123456@example.com",
    "full_name": "A Floor User With A Reasonably Long Full Name For The Record",
    "date_joined": "2026-12-04T20:00:00.123456Z",
    "profile_views": 123456,
    "login_count": 42,
    "points": 1000,
    "padding": "x" * 13,
}
