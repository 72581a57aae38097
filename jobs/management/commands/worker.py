"""``manage.py worker``: RQ's worker (django-rq's ``rqworker``, with its scheduler for
retries) in a child process, and this process enqueueing the periodic tasks when due.

SIGTERM or Ctrl-C is passed to the worker once (RQ's warm shutdown: the job in hand
finishes, then it exits); the worker runs in a session of its own, so a terminal's Ctrl-C
does not reach it twice (a second signal is RQ's cold shutdown, which abandons the job).
"""

from __future__ import annotations

import signal
import subprocess
import sys
import threading
from datetime import timedelta
from typing import Any

from django.conf import settings
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandParser

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
        worker = subprocess.Popen(
            [
                sys.executable,
                str(settings.BASE_DIR / "manage.py"),
                "rqworker",
                *queues,
                "--with-scheduler",
            ],
            start_new_session=True,
        )
        self.stdout.write(f"worker: RQ worker {worker.pid} on {', '.join(queues)}")
        try:
            while worker.poll() is None and not stop.wait(TICK):
                schedule.enqueue_due()
        finally:
            if worker.poll() is None:
                worker.send_signal(signal.SIGTERM)  # warm: the job in hand finishes
                worker.wait()
        if worker.returncode:
            raise SystemExit(worker.returncode)
