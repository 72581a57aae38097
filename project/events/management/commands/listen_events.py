"""``manage.py listen_events``: dispatch events to handlers until SIGTERM or Ctrl-C."""

from __future__ import annotations

import signal
import threading
import time
from collections import Counter
from typing import Any

from django.conf import settings
from django.core.management.base import BaseCommand, CommandError, CommandParser

from project.events.consumer import StreamConsumer
from project.events.listener import Listener


class Command(BaseCommand):
    help = (
        "Listen to event channels (pub/sub, at most once) or, with --stream, read a topic's "
        "stream through a consumer group (at least once). Stops cleanly on SIGTERM/Ctrl-C."
    )

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--topic", action="append", help="topic (repeatable); default EVENTS_TOPICS"
        )
        parser.add_argument("--stream", action="store_true", help="read the stream, at least once")
        parser.add_argument("--group", default="listeners", help="consumer group (--stream)")
        parser.add_argument("--consumer", help="consumer name (--stream); default host-pid")

    def handle(self, *args: Any, **options: Any) -> None:
        topics = options["topic"] or settings.EVENTS_TOPICS
        began = time.monotonic()
        stop = threading.Event()
        for signum in (signal.SIGTERM, signal.SIGINT):
            signal.signal(signum, lambda *_: stop.set())
        if options["stream"]:
            if len(topics) != 1:
                self.stderr.write("--stream reads one topic: pass one --topic")
                raise SystemExit(2)
            consumer = StreamConsumer(
                topics[0], group=options["group"], consumer=options["consumer"]
            )
            self.run_until_stopped(consumer, stop)
            self.summarize(consumer.counters, began, options["verbosity"])
        else:
            listener = Listener(topics, stop=stop)
            listener.run()
            self.summarize(listener.counters, began, options["verbosity"])

    def summarize(self, counters: Counter[str], began: float, verbosity: int) -> None:
        """One line on stopping: what was handled, in how long, and what went wrong."""
        if verbosity == 0:
            return
        others = ", ".join(
            f"{n} {name.replace('_', ' ')}"
            for name, n in sorted(counters.items())
            if name != "events"
        )
        self.stdout.write(
            f"listen_events: {counters['events']} events in {time.monotonic() - began:.1f} s"
            + (f" ({others})" if others else "")
        )

    def run_until_stopped(self, consumer: StreamConsumer, stop: threading.Event) -> None:
        """Consume in a thread; on SIGTERM/Ctrl-C finish the delivery in hand and return,
        whatever a read blocked in Redis is waiting for (the thread is left behind)."""
        worker = threading.Thread(target=consumer.run, name="stream-consumer", daemon=True)
        worker.start()
        while not stop.wait(1.0):  # a signal handler runs while this waits
            if not worker.is_alive():
                raise CommandError("the stream consumer stopped unexpectedly")
        consumer.halt()
        consumer.leave()
