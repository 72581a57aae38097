"""Noticing that Redis may have lost acknowledged writes: a restart, a failover.

Redis forgets writes it acknowledged when it restarts from a snapshot or an AOF older than
its last write, or when a replica that had not received them is promoted. Nothing in the
data says so: the keys are simply older. What does change is the server: every restart
gives it a new ``run_id`` and a failover puts another server (another ``run_id``) in front.

So each server keeps, in its own keyspace, the ``run_id`` under which its data was last
*adopted* (:func:`record_key`). Every new connection (all connections are new after a
restart or a failover) reads the server's ``run_id`` and that record before it carries any
command (redis-py's ``redis_connect_func``: :func:`on_connect`, :func:`on_cluster_connect`).
A match means the data is the one some process adopted, after settling it. A mismatch, or
no record, means the data may be older than what was acknowledged: the loss is noted in
this process (:data:`losses`), and the features that keep derived state (the cache) settle
it (:func:`settle`: drop everything, then adopt, in that order) before they serve again. A
restarted server that lost nothing costs one cold cache, never a stale read.

On a Cluster each primary keeps its own record, under a key in a slot it owns; the loss of
any node is settled for all (the cache's entries and its counters live on different nodes).

Limits: a server that comes back as primary without having replicated from the one that
replaced it (a split brain) still holds its own record; Sentinel and Cluster make such a
server a replica first, which replaces its data and its record.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from functools import cache
from typing import Any

from redis import Redis, ResponseError
from redis.asyncio.connection import AbstractConnection as AsyncConnection
from redis.connection import AbstractConnection
from redis.crc import key_slot

from project.redis.keys import hash_tag, make_key

logger = logging.getLogger("project.redis")

APP = "redis"


@cache
def _tag_for_slot(slot: int) -> str:
    """A hash tag Redis Cluster puts in ``slot`` (the first ``e<n>`` that hashes there)."""
    n = 0
    while key_slot(f"e{n}".encode()) != slot:
        n += 1
    return f"e{n}"


def record_key(slot: int | None = None) -> str:
    """``{prefix}:redis:epoch``, or on a Cluster ``{prefix}:redis:epoch:{e<n>}`` in ``slot``."""
    if slot is None:
        return make_key(APP, "epoch")
    return make_key(APP, "epoch", hash_tag(_tag_for_slot(slot)))


class Losses:
    """The possible losses this process has noticed on its Redis (the one ``REDIS_URL``
    names: its connections run the check) and not yet settled."""

    def __init__(self, clock: Callable[[], float] = time.monotonic) -> None:
        self.clock = clock
        self._lock = threading.Lock()
        self._settle_lock = threading.Lock()
        self.noticed = 0  # distinct losses noticed: a reader compares it around its read
        self._pending: dict[str, str] = {}  # record key -> the run_id to adopt
        self._adopted: dict[str, tuple[str, float]] = {}  # record key -> (run_id, when)

    def notice(self, key: str, run_id: str, *, checked_at: float) -> None:
        """A connection found the record ``key`` not holding ``run_id``. The same loss
        already pending is not news; nor is a check that ran before this process adopted
        that very run_id (its connection was made while the adoption was under way)."""
        with self._lock:
            if self._pending.get(key) == run_id:
                return
            adopted = self._adopted.get(key)
            if adopted and adopted[0] == run_id and checked_at < adopted[1]:
                return
            self._pending[key] = run_id
            self.noticed += 1

    def pending(self) -> bool:
        return bool(self._pending)

    def settle(self, client: Redis, drop: Callable[[], None]) -> bool:
        """Run ``drop()`` (forget everything derived from Redis's data), then adopt each
        server's data, so later connections see a match. One thread settles at a time; the
        others wait for it; True if this call dropped. ``drop`` raising (a RedisError)
        keeps the losses pending."""
        with self._settle_lock:
            with self._lock:
                pending = dict(self._pending)
            if not pending:
                return False
            drop()
            pipe = client.pipeline(transaction=False)
            for key, run_id in pending.items():
                pipe.set(key, run_id)
            pipe.execute()
            adopted_at = self.clock()
            with self._lock:
                for key, run_id in pending.items():
                    self._adopted[key] = (run_id, adopted_at)
                    if self._pending.get(key) == run_id:
                        del self._pending[key]
            logger.warning("redis: settled a possible loss of writes on %s", sorted(pending))
            return True

    def clear(self) -> None:
        with self._lock:
            self._pending.clear()
            self._adopted.clear()


losses = Losses()


def _text(reply: Any) -> str:
    return reply.decode() if isinstance(reply, bytes) else str(reply)


def _run_id(info: str) -> str:
    for line in info.splitlines():
        if line.startswith("run_id:"):
            return line.partition(":")[2].strip()
    raise ValueError("INFO server has no run_id")


def _reply(connection: AbstractConnection) -> Any:
    try:
        return connection.read_response()
    except ResponseError as exc:  # read the next reply all the same
        return exc


def _check(connection: AbstractConnection, key: str) -> None:
    """Compare the server's run_id with the record, in one round trip."""
    checked_at = losses.clock()
    connection.send_packed_command(connection.pack_commands([("INFO", "server"), ("GET", key)]))
    _compare(key, _reply(connection), _reply(connection), checked_at)


def _compare(key: str, info: Any, recorded: Any, checked_at: float) -> None:
    for reply in (info, recorded):
        if isinstance(reply, ResponseError):  # e.g. an ACL without INFO: no check here
            logger.error("redis: cannot check %s for lost writes: %s", key, reply)
            return
    run_id = _run_id(_text(info))
    if recorded is None or _text(recorded) != run_id:
        logger.warning(
            "redis: the data under %s was not adopted by run_id %s (recorded: %s)",
            key, run_id, None if recorded is None else _text(recorded),
        )  # fmt: skip
        losses.notice(key, run_id, checked_at=checked_at)


def on_connect(connection: AbstractConnection) -> None:
    """``redis_connect_func`` for one server (standalone, or Sentinel's primary)."""
    connection.on_connect()
    _check(connection, record_key())


def on_cluster_connect(connection: AbstractConnection) -> None:
    """``redis_connect_func`` for a Cluster node (RedisCluster has run ``on_connect``)."""
    connection.send_command("CLUSTER", "MYID")
    me = _text(connection.read_response())
    connection.send_command("CLUSTER", "NODES")
    for line in _text(connection.read_response()).splitlines():
        fields = line.split()
        if fields and fields[0] == me:
            ranges = [part for part in fields[8:] if not part.startswith("[")]
            if ranges:  # a primary: a record in its first slot
                _check(connection, record_key(int(ranges[0].partition("-")[0])))
            return


# --- The same checks on redis.asyncio's connections (project.redis.aclient) -------------


async def _areply(connection: AsyncConnection) -> Any:
    try:
        return await connection.read_response()
    except ResponseError as exc:
        return exc


async def _acheck(connection: AsyncConnection, key: str) -> None:
    checked_at = losses.clock()
    await connection.send_packed_command(
        connection.pack_commands([("INFO", "server"), ("GET", key)])
    )
    _compare(key, await _areply(connection), await _areply(connection), checked_at)


async def aon_connect(connection: AsyncConnection) -> None:
    await connection.on_connect()
    await _acheck(connection, record_key())


async def aon_cluster_connect(connection: AsyncConnection) -> None:
    await connection.on_connect()  # an async RedisCluster leaves it to this function
    await connection.send_command("CLUSTER", "MYID")
    me = _text(await connection.read_response())
    await connection.send_command("CLUSTER", "NODES")
    for line in _text(await connection.read_response()).splitlines():
        fields = line.split()
        if fields and fields[0] == me:
            ranges = [part for part in fields[8:] if not part.startswith("[")]
            if ranges:
                await _acheck(connection, record_key(int(ranges[0].partition("-")[0])))
            return
