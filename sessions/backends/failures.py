"""How a session operation ends, for the sync and the async methods alike: counted
(``project.metrics``), and a Redis error as :class:`SessionUnavailableError`, which the
middleware answers with a 503 and the cookie untouched."""

from __future__ import annotations

import logging
import time

from redis import RedisError

from project.metrics import SESSIONS

logger = logging.getLogger("sessions")


class SessionUnavailableError(Exception):
    """Redis could not be reached: answer 503 and leave the cookie alone."""


def now_ms() -> int:
    return time.time_ns() // 1_000_000


def succeeded(operation: str) -> None:
    SESSIONS.labels(operation, "ok").inc()


def unavailable(operation: str, exc: RedisError) -> SessionUnavailableError:
    SESSIONS.labels(operation, "failed").inc()
    logger.warning("session: %s failed, Redis unavailable: %s", operation, exc)
    return SessionUnavailableError(f"session store unavailable ({operation})")
