"""The session keys.

A session is a hash in a slot of its own; each user's index of sessions is a hash in the
user's slot. No script touches both: operations that span them are ordered so that a
race leaves at most a dead index entry, which every reader of the index filters out.
"""

from __future__ import annotations

from django.utils.crypto import salted_hmac

from project.redis.keys import hash_tag, make_key

APP = "sessions"


def session(session_key: str) -> str:
    """``{prefix}:sessions:{<session key>}``: a hash of d (signed data), u (user id
    indexed), c (created) and s (last seen), times in Unix milliseconds."""
    return make_key(APP, hash_tag(session_key))


def index(user_id: str | int) -> str:
    """``{prefix}:sessions:{user:<id>}:index``: opaque session id → JSON metadata."""
    return make_key(APP, hash_tag("user", user_id), "index")


def public_id(session_key: str) -> str:
    """The id a user sees for a session: derived from the key, never the key itself."""
    return salted_hmac("sessions.public_id", session_key, algorithm="sha256").hexdigest()[:20]
