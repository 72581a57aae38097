"""One typed wrapper per Lua file in ``users/lua/``."""

from __future__ import annotations

from redis import Redis

from project.redis.scripts import load


def count(
    client: Redis, pending: str, claim: str, *, bump: str, views: str, logins: str, batch: str
) -> tuple[int, int, int, int]:
    """Bump field ``bump`` (or none if empty) in the pending batch (``batch`` is its id if
    this count starts it); return the user's pending views and logins, then those in a
    claim being flushed."""
    reply = load(__file__, "count")(
        client, keys=[pending, claim], args=[bump, views, logins, batch]
    )
    pending_views, pending_logins, claimed_views, claimed_logins = (int(x) for x in reply)
    return pending_views, pending_logins, claimed_views, claimed_logins


def claim(client: Redis, pending: str, claim: str, *, new_id: str) -> dict[bytes, bytes]:
    """The claim to flush (the pending batch, or one a dead flusher left), as a hash with
    its ``_id`` (``new_id`` if it had none); empty if nothing is pending."""
    reply = load(__file__, "claim")(client, keys=[pending, claim], args=[new_id])
    return dict(zip(reply[::2], reply[1::2], strict=True))


def forget_claim(client: Redis, claim: str, *, claim_id: str) -> bool:
    """Drop the claim if it is still the one applied; False if it is not."""
    return bool(load(__file__, "forget_claim")(client, keys=[claim], args=[claim_id]))
