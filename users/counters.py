"""Write-back counters: profile views and logins counted in Redis, flushed in batches.

Counting is one ``HINCRBY`` (in ``count.lua``, which also returns what is waiting, so the
API shows stored + pending without another round trip). ``flush()`` moves the pending hash
aside atomically (``claim.lua``: ``RENAME``), applies it in one database transaction
(one ``UPDATE … CASE`` for all users, a ``CounterFlush`` row carrying the claim id, and
the fence of the flush lock) and drops the claim only after the commit. So:

- a flusher that dies before its commit leaves the claim; the next flush applies it;
- one that dies after its commit but before dropping the claim leaves a claim whose id
  is already in ``CounterFlush``; the next flush drops it without applying it again;
- only one flusher runs at a time (``project.locks.lock.Lock``), and one paused past the lock's
  TTL is refused at its write by the fence.

A batch's id is given with its first count (``count.lua``), not when it is claimed, so
Redis losing writes never applies counts twice: a batch it brings back after it was
flushed (a restart from an older snapshot, a failover to a replica that missed the claim)
holds an id the database has, and is dropped.

Lost counts: only if Redis itself loses data (a restart without persistence, a failover
to a replica that had not received the increments) between a count and its flush, and
the counts added to a batch that came back after its flush: at most one flush interval.
"""

from __future__ import annotations

import logging
import secrets
from collections.abc import Callable, Iterable
from dataclasses import dataclass

from django.db import transaction
from django.db.models import BigIntegerField, Case, F, Value, When
from redis import Redis

from project.locks.lock import Lock
from project.redis.client import get_client
from users import keys, scripts
from users.cache import cached_users
from users.models import CounterFlush, User

logger = logging.getLogger("users")
FLUSH_LOCK = "users-counters-flush"


@dataclass(frozen=True)
class Pending:
    views: int
    logins: int


def _fields(user_id: int) -> tuple[str, str]:
    return f"{user_id}:v", f"{user_id}:l"


def _count(user_id: int, bump: str, client: Redis | None) -> Pending:
    views, logins = _fields(user_id)
    pending_views, pending_logins, claimed_views, claimed_logins = scripts.count(
        client or get_client(), keys.counters_pending(), keys.counters_claim(),
        bump=bump, views=views, logins=logins, batch=secrets.token_hex(16) if bump else "",
    )  # fmt: skip
    return Pending(pending_views + claimed_views, pending_logins + claimed_logins)


def count_view(user_id: int, *, client: Redis | None = None) -> Pending:
    return _count(user_id, _fields(user_id)[0], client)


def count_login(user_id: int, *, client: Redis | None = None) -> Pending:
    return _count(user_id, _fields(user_id)[1], client)


def pending(user_id: int, *, client: Redis | None = None) -> Pending:
    return _count(user_id, "", client)


def pending_many(user_ids: Iterable[int], *, client: Redis | None = None) -> dict[int, Pending]:
    """What waits to be flushed for each user, in one round trip (a page of users)."""
    ids = list(user_ids)
    if not ids:
        return {}
    fields = [field for user_id in ids for field in _fields(user_id)]
    pipe = (client or get_client()).pipeline(transaction=False)
    pipe.hmget(keys.counters_pending(), fields)
    pipe.hmget(keys.counters_claim(), fields)
    waiting, claimed = pipe.execute()
    counts = [int(a or 0) + int(b or 0) for a, b in zip(waiting, claimed, strict=True)]
    return {user_id: Pending(counts[2 * i], counts[2 * i + 1]) for i, user_id in enumerate(ids)}


@dataclass(frozen=True)
class FlushResult:
    users: int
    increments: int
    reapplied: bool = False  # a claim left by a flusher that died before dropping it


def flush(
    *,
    lock_timeout: float = 10.0,
    client: Redis | None = None,
    before_commit: Callable[[], None] = lambda: None,
    after_commit: Callable[[], None] = lambda: None,
) -> FlushResult:
    """Apply the pending counts to the database, exactly once. The hooks are for tests:
    they run inside the transaction and right after it (where a crash would hurt most)."""
    client = client or get_client()
    lock = Lock(FLUSH_LOCK, ttl=60, client=client)
    with lock.hold(timeout=lock_timeout) as grant:
        fields = scripts.claim(
            client, keys.counters_pending(), keys.counters_claim(), new_id=secrets.token_hex(16)
        )
        if not fields:
            return FlushResult(0, 0)
        claim_id = fields.pop(b"_id").decode()
        views: dict[int, int] = {}
        logins: dict[int, int] = {}
        for name, count in fields.items():
            user_id, kind = name.decode().split(":")
            (views if kind == "v" else logins)[int(user_id)] = int(count)
        user_ids = set(views) | set(logins)
        increments = sum(views.values()) + sum(logins.values())
        with transaction.atomic():
            grant = lock.record_fence(grant)
            reapplied = CounterFlush.objects.filter(claim_id=claim_id).exists()
            if not reapplied:
                cached_users.bulk_update(
                    User.objects.filter(pk__in=user_ids),
                    profile_views=F("profile_views") + _by_user(views),
                    login_count=F("login_count") + _by_user(logins),
                )
                CounterFlush.objects.create(
                    claim_id=claim_id, fence=grant.fence, users=len(user_ids),
                    increments=increments,
                )  # fmt: skip
            before_commit()
        after_commit()
        scripts.forget_claim(client, keys.counters_claim(), claim_id=claim_id)
    if reapplied:
        logger.warning("counters: dropped claim %s, applied by an earlier flush", claim_id)
        return FlushResult(0, 0, reapplied=True)
    return FlushResult(len(user_ids), increments)  # its caller says so (the job, the command)


def _by_user(counts: dict[int, int]) -> Case:
    whens = [When(pk=user_id, then=Value(count)) for user_id, count in counts.items()]
    return Case(*whens, default=Value(0), output_field=BigIntegerField())
