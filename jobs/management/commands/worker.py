"""``manage.py worker``: RQ's worker (django-rq's ``rqworker``, with its scheduler for
retries) in a child process, and this process enqueueing the periodic tasks when due.

SIGTERM or Ctrl-C is passed to the worker once (RQ's warm shutdown: the job in hand
finishes, then it exits); the worker runs in a session of its own, so a terminal's Ctrl-C
does not reach it twice (a second signal is RQ's cold shutdown, which abandons the job).
"""

from __future__ import annotations

import ctypes
import ctypes.util
import itertools
import os
import signal
import socket
import subprocess
import sys
import threading
from datetime import timedelta
from typing import Any

import django_rq
from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser
from redis import RedisError
from rq.worker import Worker, WorkerStatus

from jobs import relay, schedule

TICK = 1.0  # seconds between looks at the periodic schedule


class Command(BaseCommand):
    help = (
        "Run the task worker with its scheduler and the periodic tasks; --burst hands off "
        "the outbox, runs what is queued and exits."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument("--burst", action="store_true", help="drain the queue and exit")

    def handle(self, *args: Any, **options: Any) -> None:
        queues = list(settings.TASKS["default"]["QUEUES"])
        if options["burst"]:
            relay.relay_left(older_than=timedelta(0))  # nobody else will hand these off
            call_command("rqworker", *queues, burst=True, with_scheduler=True)
            return
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        name = f"{socket.gethostname()}-{os.getpid()}"  # to look its state up on stopping
        manage = str(settings.BASE_DIR / "manage.py")
        worker = subprocess.Popen(
            [sys.executable, manage, "rqworker", *queues, "--with-scheduler", "--name", name],
            start_new_session=True,
            preexec_fn=stop_with_parent,
        )
        self.stdout.write(f"worker: RQ worker {worker.pid} on {', '.join(queues)}")
        queue_redis = django_rq.get_connection("default")
        try:
            while worker.poll() is None and not stop.wait(TICK):
                schedule.enqueue_due(queue_redis)
        finally:
            stop_worker(worker, name)
        if worker.returncode:
            raise SystemExit(worker.returncode)


def stop_with_parent() -> None:
    """In the RQ worker, before it runs: SIGTERM (a warm shutdown) when this process dies,
    even by SIGKILL, so no worker outlives its ``manage.py worker`` (Linux; elsewhere a
    supervisor must stop both)."""
    if sys.platform.startswith("linux"):
        libc = ctypes.CDLL(ctypes.util.find_library("c") or "libc.so.6", use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGTERM)


PR_SET_PDEATHSIG = 1


def stop_worker(worker: subprocess.Popen[bytes], name: str) -> None:
    """SIGTERM (warm: the job in hand finishes), and again if the worker is still idle and
    registered ``GRACE`` seconds later: on Sentinel an idle RQ worker's blocking wait does
    not end on the first signal (it would wait out its dequeue timeout). Never sooner, and
    never once it has unregistered: a worker already stopping (its scheduler joined, its
    channel left) would die of the second signal half-way."""
    if worker.poll() is not None:
        return
    worker.send_signal(signal.SIGTERM)
    for waited in itertools.count(1):
        try:
            worker.wait(timeout=1)
            return
        except subprocess.TimeoutExpired:
            if waited >= GRACE and stuck(name):
                worker.send_signal(signal.SIGTERM)


GRACE = 3  # seconds an idle worker has to stop on its first signal


def stuck(name: str) -> bool:
    """Is the RQ worker ``name`` registered and idle (not running a job)? Not known: yes, so
    stopping stays bounded (a job cut short is retried by RQ's clean-up)."""
    try:
        found = Worker.find_by_key(
            Worker.redis_worker_namespace_prefix + name,
            connection=django_rq.get_connection("default"),
        )
        return found is not None and found.get_state() != WorkerStatus.BUSY
    except RedisError:
        return True
