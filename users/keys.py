"""Every Redis key the users app owns. Permanent by design, all rebuildable or
drained: the write-back buffers (until flushed), the tag and leaderboard indexes (rebuilt
from the database by ``manage.py rebuild_indexes``)."""

from __future__ import annotations

from project.redis.keys import hash_tag, make_key

APP = "users"


def counters_pending() -> str:
    """Hash ``<user id>:v|l`` → views/logins counted since the last claim (write-back)."""
    return make_key(APP, hash_tag("counters"), "pending")


def counters_claim() -> str:
    """Hash: the batch a flusher claimed, with its ``_id``; same slot as pending."""
    return make_key(APP, hash_tag("counters"), "claim")


def searches(user_id: int) -> str:
    """List: the user's recent searches, newest first, at most 10; 30 days idle TTL."""
    return make_key(APP, hash_tag("user", user_id), "searches")


def user_tags(user_id: int) -> str:
    """Set: the user's tags."""
    return make_key(APP, hash_tag("user", user_id), "tags")


def tag_users(tag: str) -> str:
    """Set: ids of the users with ``tag``."""
    return make_key(APP, "tag", hash_tag(tag))


def tag_users_pattern() -> str:
    return make_key(APP, "tag", "*")


def leaderboard() -> str:
    """Sorted set: user id (zero-padded) scored by points."""
    return make_key(APP, hash_tag("leaderboard"))


def leaderboard_scratch() -> str:
    """Where a rebuild assembles the board before RENAME (same slot as the board)."""
    return make_key(APP, hash_tag("leaderboard"), "rebuild")
