"""A task that always fails, for the worker tests (importable by the worker: it runs in
the project's directory). Each attempt appends a line to $FAILING_LOG."""

from __future__ import annotations

import os
import time

from django_tasks import task

from jobs.queue import options


@options(retries=2, base=1, cap=1)
@task()
def always_fails() -> None:
    with open(os.environ["FAILING_LOG"], "a") as log:
        log.write("attempt\n")
    raise RuntimeError("this task always fails")


@options(retries=1, base=1, cap=1, timeout=1)
@task()
def too_slow() -> None:
    with open(os.environ["FAILING_LOG"], "a") as log:
        log.write("attempt\n")
    time.sleep(30)  # killed by RQ after its 1 s limit


@options(retries=1, base=0)  # retried at once: back in the queue, not scheduled
@task()
def killed_once() -> None:
    """Its first run hangs (the test SIGKILLs the worker then); the next one returns."""
    with open(os.environ["FAILING_LOG"], "a") as log:
        log.write(f"attempt {os.getpid()}\n")  # the work horse's pid: killed too
    with open(os.environ["FAILING_LOG"]) as log:
        first = log.read().count("attempt") == 1
    if first:
        time.sleep(120)
