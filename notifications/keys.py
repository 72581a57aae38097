"""The notification keys: all of a user's in the user's slot (``{user:<id>}``, beside the
user's session index), so one script writes them together on a Cluster."""

from __future__ import annotations

from project.redis.keys import hash_tag, make_key

APP = "notifications"


def stream(user_id: int | str) -> str:
    """``{prefix}:notifications:{user:<id>}:stream``: entries ``d`` (the JSON notification);
    the entry id is the notification's id (and the stream's ``Last-Event-ID``)."""
    return make_key(APP, hash_tag("user", user_id), "stream")


def delivered(user_id: int | str) -> str:
    """``...:{user:<id>}:delivered``: sorted set of the outbox ids written to the stream
    (a re-delivered one is not written twice), bounded like the stream."""
    return make_key(APP, hash_tag("user", user_id), "delivered")


def read_up_to(user_id: int | str) -> str:
    """``...:{user:<id>}:read``: the id of the newest notification the user has read."""
    return make_key(APP, hash_tag("user", user_id), "read")


def wake_channel() -> str:
    """``{prefix}:notifications:wake``: ``<user id>`` published when that user has news (or a
    session of theirs ended), so each web process's one reader looks at that user's stream."""
    return make_key(APP, "wake")
