"""Waiting for a replica after a write that must survive a failover.

Redis replicates asynchronously: a primary that fails right after a logout may be replaced
by a replica that never saw it, and the session comes back. For the few writes where that
is a security hole (a logout, a revocation) the writer waits, bounded, for one replica to
acknowledge them: ``WAIT`` at the end of the writes' own pipeline (it counts the writes of
its connection). Only under Sentinel, where replicas exist by design: on a server without
replicas ``WAIT`` would block for its whole timeout. On a Cluster, ``WAIT`` would reach
one node only; revocations there rely on the data-loss detection and the session's auth
hash (``docs/caching.md``).
"""

from __future__ import annotations

import logging
from typing import Any

from django.conf import settings
from redis.client import Pipeline

logger = logging.getLogger("project.redis")


def execute_replicated(pipe: Pipeline) -> list[Any]:
    """Run ``pipe`` and, under Sentinel, wait until one replica has its writes (at most
    ``REDIS_WAIT_REPLICA_MS``, kept under the socket timeout). The replies of ``pipe``'s
    own commands come back. A replica that does not answer in time costs the wait, never
    the write: the primary has it."""
    timeout_ms = min(settings.REDIS_WAIT_REPLICA_MS, int(settings.REDIS_SOCKET_TIMEOUT * 800))
    if settings.REDIS_TOPOLOGY.kind != "sentinel" or timeout_ms <= 0:
        return list(pipe.execute())
    pipe.wait(1, timeout_ms)
    *replies, acknowledged = pipe.execute()
    if not acknowledged:
        logger.warning("redis: no replica acknowledged a revocation within %d ms", timeout_ms)
    return replies
