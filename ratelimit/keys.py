from __future__ import annotations

from project.redis.keys import hash_tag, make_key


def window(scope: str, ident: str) -> str:
    """``{prefix}:ratelimit:{<scope>:<ident>}``: one sorted set, one slot per window."""
    return make_key("ratelimit", hash_tag(scope, ident))
