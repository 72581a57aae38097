"""A user's sessions: list, revoke one, revoke all (``/api/auth/sessions/``).

Each user has an index hash, opaque id → JSON ``{key, created, ip, user_agent}``, written
when a session becomes that user's and removed when it is deleted. Sessions also expire
on their own, so an index may hold dead entries for a while: every read of it checks the
sessions themselves and prunes the dead, logins prune it too, and it keeps at most
``MAX_SESSIONS_PER_USER`` (the oldest beyond are revoked). The index's TTL follows the
longest session it lists: every write of a signed-in session's TTL lengthens the
index's too (never shortens it), and re-adds the session's entry if the index was lost.

The index and the sessions live in different Cluster slots, so no operation spans them
atomically; instead they are ordered. Revocation deletes the session first and the entry
second, and a save only ever updates a session that still exists (``update.lua``), so a
request in flight during a revocation cannot bring its session back: at worst it leaves
a dead entry, which no listing shows. Under Sentinel a logout or a revocation also waits
(bounded) for a replica to have it (``project/redis/replicas.py``), so that a failover
right after it cannot bring the session back either.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, cast

import redis.asyncio
from redis import Redis
from redis.client import Pipeline

from project.redis.client import get_client
from project.redis.replicas import execute_replicated
from sessions import keys, scripts
from sessions.signals import sessions_revoked

MAX_SESSIONS_PER_USER = 100


@dataclass(frozen=True)
class SessionInfo:
    id: str
    created: datetime
    last_seen: datetime
    ip: str
    user_agent: str
    current: bool


def index(
    *, user_id: str, session_key: str, ip: str, user_agent: str, ttl: int,
    client: Redis | None = None,
) -> None:  # fmt: skip
    """List ``session_key`` among ``user_id``'s sessions, pruning dead and excess entries."""
    client = client or get_client()
    keep_indexed(
        client, user_id=user_id, session_key=session_key, ip=ip, user_agent=user_agent,
        ttl=ttl, replace=True,
    )  # fmt: skip
    live = _live_entries(client, user_id)
    oldest_first = sorted(live.values(), key=lambda entry: entry[0])
    excess = [meta["key"] for _, _, meta in oldest_first[:-MAX_SESSIONS_PER_USER]]
    revoke_keys(user_id=user_id, session_keys=excess, client=client)


def keep_indexed(
    client: Redis | Pipeline, *, user_id: str, session_key: str, ip: str, user_agent: str,
    ttl: int, replace: bool = False,
) -> Any:  # fmt: skip
    """The session listed in its owner's index (re-added if the index was lost), and the
    index living at least ``ttl`` more seconds: called wherever a signed-in session's TTL
    is set, so the index outlives its longest session through ``set_expiry``,
    ``SESSION_SAVE_EVERY_REQUEST`` and eviction. On a pipeline, queued."""
    return scripts.keep_indexed(
        client, keys.index(user_id), field=keys.public_id(session_key),
        entry=_entry(session_key, ip, user_agent), ttl=max(ttl, 1), replace=replace,
    )  # fmt: skip


async def akeep_indexed(
    client: redis.asyncio.Redis, *, user_id: str, session_key: str, ip: str, user_agent: str,
    ttl: int,
) -> None:  # fmt: skip
    """``keep_indexed`` on redis.asyncio (never replacing: a save of a session its owner
    keeps)."""
    await scripts.akeep_indexed(
        client, keys.index(user_id), field=keys.public_id(session_key),
        entry=_entry(session_key, ip, user_agent), ttl=max(ttl, 1), replace=False,
    )  # fmt: skip


def _entry(session_key: str, ip: str, user_agent: str) -> str:
    return json.dumps({"key": session_key, "ip": ip, "user_agent": user_agent})


def unindex(*, user_id: str, session_key: str, client: Redis | None = None) -> None:
    (client or get_client()).hdel(keys.index(user_id), keys.public_id(session_key))


def delete_session(session_key: str, *, client: Redis | None = None) -> None:
    """Delete a session and its owner's index entry (``SessionStore.delete``)."""
    client = client or get_client()
    pipe = client.pipeline(transaction=False)
    pipe.hget(keys.session(session_key), "u")
    pipe.delete(keys.session(session_key))
    owner, _ = execute_replicated(pipe)
    if owner:
        unindex(user_id=owner.decode(), session_key=session_key, client=client)


def list_sessions(
    *, user_id: str, current_key: str | None, client: Redis | None = None
) -> list[SessionInfo]:
    """The user's live sessions, newest first."""
    client = client or get_client()
    current = keys.public_id(current_key) if current_key else None
    sessions = [
        SessionInfo(
            id=public_id,
            created=_datetime(created),
            last_seen=_datetime(last_seen),
            ip=meta["ip"],
            user_agent=meta["user_agent"],
            current=public_id == current,
        )
        for public_id, (created, last_seen, meta) in _live_entries(client, user_id).items()
    ]
    return sorted(sessions, key=lambda s: s.created, reverse=True)


def revoke(*, user_id: str, public_id: str, client: Redis | None = None) -> bool:
    """Log out one of the user's sessions; False if the user has no such session."""
    client = client or get_client()
    raw = client.hget(keys.index(user_id), public_id)
    if raw is None:
        return False
    revoke_key(user_id=user_id, session_key=json.loads(raw)["key"], client=client)
    return True


def revoke_all(*, user_id: str, except_key: str | None = None, client: Redis | None = None) -> int:
    """Log out all of the user's sessions but ``except_key``; return how many ended."""
    client = client or get_client()
    keep = keys.public_id(except_key) if except_key else None
    # Bytes, here and below: the clients run without decode_responses.
    entries = cast("dict[bytes, bytes]", client.hgetall(keys.index(user_id)))
    session_keys = [
        json.loads(raw)["key"] for public_id, raw in entries.items() if public_id.decode() != keep
    ]
    return revoke_keys(user_id=user_id, session_keys=session_keys, client=client)


def revoke_key(*, user_id: str, session_key: str, client: Redis | None = None) -> int:
    return revoke_keys(user_id=user_id, session_keys=[session_key], client=client)


def revoke_keys(*, user_id: str, session_keys: list[str], client: Redis | None = None) -> int:
    """Delete the sessions (on a replica too, under Sentinel), then their index entries
    (that order: see the module docstring); how many were live."""
    if not session_keys:
        return 0
    client = client or get_client()
    pipe = client.pipeline(transaction=False)
    for session_key in session_keys:
        pipe.delete(keys.session(session_key))
    ended = sum(int(reply) for reply in execute_replicated(pipe))
    client.hdel(keys.index(user_id), *(keys.public_id(key) for key in session_keys))
    if ended:
        sessions_revoked.send(sender=None, user_id=user_id, count=ended)
    return ended


def _live_entries(client: Redis, user_id: str) -> dict[str, tuple[int, int, dict[str, Any]]]:
    """public id → (created, last seen, metadata) of live sessions; the dead are pruned."""
    index_key = keys.index(user_id)
    stored = cast("dict[bytes, bytes]", client.hgetall(index_key))
    entries = {public_id.decode(): json.loads(raw) for public_id, raw in stored.items()}
    if not entries:
        return {}
    pipe = client.pipeline(transaction=False)
    for meta in entries.values():
        pipe.hmget(keys.session(meta["key"]), ["c", "s"])
    times = dict(zip(entries, pipe.execute(), strict=True))
    dead = [public_id for public_id, (created, _) in times.items() if created is None]
    if dead:
        client.hdel(index_key, *dead)
    return {
        public_id: (int(times[public_id][0]), int(times[public_id][1]), meta)
        for public_id, meta in entries.items()
        if public_id not in dead
    }


def _datetime(unix_ms: int) -> datetime:
    return datetime.fromtimestamp(unix_ms / 1000, tz=UTC)
