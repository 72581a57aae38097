"""What a write does when its cache mark cannot reach Redis (docs/caching.md).

In an HTTP request the write is **refused**: the mark runs inside the write's transaction,
``CacheUnavailableError`` rolls it back, and ``caching.middleware.ReadYourWritesMiddleware``
answers 503 with ``Retry-After``. The client retries; no reader anywhere can be served the
old value after a 2xx, even while Redis is slow. Anywhere else (commands, shells, workers,
which have no client to answer) the change is **recorded** in the database instead, and the
web processes apply it (``caching/recovery.py``).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_refusing: ContextVar[bool] = ContextVar("caching_refusing", default=False)


class CacheUnavailableError(Exception):
    """The cache could not be told about a write; the write was rolled back."""

    def __init__(self, retry_after: int) -> None:
        super().__init__("The cache is unavailable; nothing was saved.")
        self.retry_after = retry_after


def refuses() -> bool:
    """Does a write that cannot mark the cache fail here (rather than be recorded)?"""
    return _refusing.get()


@contextmanager
def refusing() -> Iterator[None]:
    """Within this block, writes that cannot mark the cache raise ``CacheUnavailableError``."""
    token = _refusing.set(True)
    try:
        yield
    finally:
        _refusing.reset(token)
