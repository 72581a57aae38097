"""Progress bars for the long commands of this app (tqdm, on the command's stderr).

A bar shows only on a terminal (tqdm's ``disable=None``) and never with ``--verbosity 0``;
it is cleared when the work ends, so what stays on screen is the command's one-line result.
Django skips modules whose name starts with ``_``: this one is not a command.
"""

from __future__ import annotations

import contextlib
import sys
import threading
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from typing import Any, cast

from django.core.management.base import BaseCommand
from redis import Redis
from tqdm import tqdm
from tqdm.contrib.logging import logging_redirect_tqdm


@contextmanager
def bar(
    command: BaseCommand,
    *,
    verbosity: int,
    desc: str,
    total: int | None = None,
    bar_format: str | None = None,
) -> Iterator[tqdm]:
    """A bar for ``command``'s work: ``total`` units, advanced with ``update(n)``. While it
    shows, log lines are printed above it instead of through it."""
    # The stream under Django's OutputWrapper, which would end each of tqdm's writes with a
    # newline (and colour it): sys.stderr, or what call_command(stderr=...) was given.
    stream = getattr(command.stderr, "_out", sys.stderr)
    with contextlib.ExitStack() as stack:
        quiet = None if verbosity > 0 else True  # None: quiet unless stderr is a terminal
        progress = stack.enter_context(
            tqdm(total=total, desc=desc, unit="user", file=stream, leave=False, disable=quiet,
                 dynamic_ncols=True, bar_format=bar_format)
        )  # fmt: skip
        if not progress.disable:
            stack.enter_context(logging_redirect_tqdm())
        yield progress


@contextmanager
def steps(
    command: BaseCommand, *, verbosity: int, names: Sequence[str]
) -> Iterator[Callable[[], None]]:
    """For work that cannot count its units (one database transaction): a line naming the
    step under way and the time spent, redrawn every second; the yielded callable ends the
    current step and starts the next."""
    labels = [f"{name} (step {i}/{len(names)})" for i, name in enumerate(names, 1)]
    done, stop = 0, threading.Event()
    with bar(
        command, verbosity=verbosity, desc=labels[0], total=len(names),
        bar_format="{desc} [{elapsed}]",
    ) as progress:  # fmt: skip

        def advance() -> None:
            nonlocal done
            done += 1
            if done < len(labels):
                progress.set_description_str(labels[done], refresh=False)
            progress.update(1)
            progress.refresh()

        def tick() -> None:
            while not stop.wait(1.0):
                progress.refresh()

        ticker = threading.Thread(target=tick, name="progress", daemon=True)
        if not progress.disable:
            ticker.start()
        try:
            yield advance
        finally:
            stop.set()
            if ticker.is_alive():
                ticker.join()


def batched(client: Redis, progress: tqdm, *, unit: str, batch: int = 1000) -> Redis:
    """``client`` for a rebuild that builds one pipeline for all users: each pipeline it
    opens without a transaction sends what it holds every ``batch`` calls of ``unit`` (the
    command the rebuild queues once per user) and advances ``progress`` by what Redis took.
    A pipeline without a transaction promises no atomicity, so sending it in parts changes
    nothing but the memory it holds; every other call is the client's own."""
    return cast("Redis", _BatchedClient(client, progress, unit, batch))


class _BatchedClient:
    def __init__(self, client: Redis, progress: tqdm, unit: str, batch: int) -> None:
        self._client, self._progress, self._unit, self._batch = client, progress, unit, batch

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)

    def pipeline(self, *args: Any, **kwargs: Any) -> Any:
        pipe = self._client.pipeline(*args, **kwargs)
        if args or kwargs.get("transaction", True) is not False:
            return pipe
        return _BatchedPipeline(pipe, self._progress, self._unit, self._batch)


class _BatchedPipeline:
    def __init__(self, pipe: Any, progress: tqdm, unit: str, batch: int) -> None:
        self._pipe, self._progress, self._unit, self._batch = pipe, progress, unit, batch
        self._queued = 0  # calls of unit not yet sent

    def __getattr__(self, name: str) -> Any:
        command = getattr(self._pipe, name)
        if name != self._unit:
            return command

        def counted(*args: Any, **kwargs: Any) -> _BatchedPipeline:
            command(*args, **kwargs)
            self._queued += 1
            if self._queued >= self._batch:
                self.execute()
            return self

        return counted

    def execute(self, *args: Any, **kwargs: Any) -> list[Any]:
        results: list[Any] = self._pipe.execute(*args, **kwargs)
        self._progress.update(self._queued)
        self._queued = 0
        return results
