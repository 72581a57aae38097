"""Stopping a loop at once, even in the middle of a blocking read.

A loop checks its stop flag between reads, but a read may block for seconds (``BLOCK``,
a socket timeout while Redis stalls). SIGTERM runs its Python handler when the blocked
system call returns with ``EINTR``; if the handler raises, the read is abandoned there
(PEP 475 retries it only if the handler returns). So :meth:`Stop.request`, the handler,
raises :class:`ReadInterruptedError` when, and only when, the loop is inside :meth:`Stop.reading`:
a read is cut short, work in progress (a handler, an acknowledgement) never is. What the
cut read had fetched stays pending in the stream's group (at least once) or is lost on
pub/sub (at most once, as any disconnection).
"""

from __future__ import annotations

import threading
from collections.abc import Iterator
from contextlib import contextmanager


class ReadInterruptedError(Exception):
    """A blocking read cut short by a stop request."""


class Stop:
    """A loop's stop flag (``threading.Event``'s interface) that can cut its reads short."""

    def __init__(self, event: threading.Event | None = None) -> None:
        self.event = event or threading.Event()
        self._reading = False

    def is_set(self) -> bool:
        return self.event.is_set()

    def set(self) -> None:
        self.event.set()

    def wait(self, timeout: float | None = None) -> bool:
        return self.event.wait(timeout)

    @contextmanager
    def reading(self) -> Iterator[None]:
        """Around a read that may block: a stop request in it raises ``ReadInterruptedError``."""
        self._reading = True
        try:
            if self.event.is_set():
                raise ReadInterruptedError
            yield
        finally:
            self._reading = False

    def request(self, *_: object) -> None:
        """Stop (a signal handler: ``signal.signal(SIGTERM, stop.request)``)."""
        self.event.set()
        if self._reading and threading.current_thread() is threading.main_thread():
            raise ReadInterruptedError
