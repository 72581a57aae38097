"""Events: publish-to-handler latency and events/s, pub/sub against the stream, and what a
deliberately slow consumer loses of 20,000 events on each.

    python bench/events.py          (or: make bench-events)

The bench's own Redis gets a small pub/sub output buffer limit (256 KB hard, 128 KB for
1 s) so that a slow subscriber is cut off within this run, as the default 32 MB limit cuts
off one that falls further behind. Handlers run in the listener's thread in this process;
publish times travel in the event, so latency is measured on one clock.
"""

from __future__ import annotations

import argparse
import json
import queue
import sys
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, configure, summary

TOPIC = "bench"
TYPE = "bench.tick"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--latency-n", type=int, default=2000)
    parser.add_argument("--flood", type=int, default=20_000)
    parser.add_argument("--slow-ms", type=float, default=0.5)
    args = parser.parse_args()
    configure("sqlite")

    import django

    django.setup()
    from project.events import keys as event_keys
    from project.events import registry
    from project.events.consumer import StreamConsumer
    from project.events.envelope import Event
    from project.events.listener import Listener
    from project.redis.client import get_client

    client = get_client()
    client.flushdb()
    client.config_set("client-output-buffer-limit", "pubsub 256kb 128kb 1")
    registry.declare(TYPE)
    inbox: queue.Queue[tuple[int, int]] = queue.Queue()
    delay = {"seconds": 0.0}

    @registry.handler(TYPE)
    def record(event: Event) -> None:
        if delay["seconds"]:
            time.sleep(delay["seconds"])
        inbox.put((event.data["n"], time.perf_counter_ns() - event.data["t"]))

    def publish_pubsub(n: int) -> None:
        client.publish(event_keys.channel(TOPIC), tick(n))

    def publish_stream(n: int) -> None:
        client.xadd(event_keys.stream(TOPIC), {"event": tick(n)})

    def tick(n: int) -> str:
        return Event(TYPE, None, {"n": n, "t": time.perf_counter_ns(), "pad": "x" * 200}).to_json()

    def start(worker: Listener | StreamConsumer) -> threading.Thread:
        thread = threading.Thread(target=worker.run, daemon=True)
        thread.start()
        return thread

    report: dict[str, dict] = {}
    for kind, publish in (("pubsub", publish_pubsub), ("stream", publish_stream)):
        worker: Listener | StreamConsumer
        if kind == "pubsub":
            worker = Listener([TOPIC])
            thread = start(worker)
            worker.subscribed.wait(5)
        else:
            worker = StreamConsumer(TOPIC, consumer=f"bench-{kind}", block_ms=100)
            thread = start(worker)
            time.sleep(0.3)  # let it create its group and block on XREADGROUP
        _drain(inbox)

        # Latency: one event at a time, each waited for.
        latencies = []
        for n in range(args.latency_n):
            publish(n)
            latencies.append(inbox.get(timeout=10)[1] / 1000)

        # Throughput: a flood of events published back to back, until all are handled.
        begin = time.perf_counter()
        for n in range(args.flood):
            publish(n)
        received = _collect(inbox, args.flood, quiet=2.0)
        elapsed = time.perf_counter() - begin

        # Loss under a slow consumer: each event takes slow-ms to handle.
        delay["seconds"] = args.slow_ms / 1000
        for n in range(args.flood):
            publish(n)
        slow_received = _collect(inbox, args.flood, quiet=3.0)
        delay["seconds"] = 0.0

        worker.stop.set()
        thread.join(timeout=10)
        report[kind] = {
            "latency": summary(latencies),
            "events_per_second": round(received / elapsed),
            "flood_received": received,
            "slow_consumer_received": slow_received,
            "slow_consumer_lost": args.flood - slow_received,
            "reconnects": worker.counters["reconnects"],
        }

    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "events.json").write_text(json.dumps(report, indent=2))
    print(
        f"\nevents: latency over {args.latency_n} (µs), flood of {args.flood}, "
        f"slow consumer {args.slow_ms} ms/event"
    )
    print(f"{'':8} {'median':>8} {'p99':>8} {'events/s':>9} {'lost (slow)':>12} {'reconnects':>10}")
    for kind, row in report.items():
        print(
            f"{kind:8} {row['latency']['median_us']:8.0f} {row['latency']['p99_us']:8.0f} "
            f"{row['events_per_second']:9} {row['slow_consumer_lost']:12} {row['reconnects']:10}"
        )


def _drain(inbox: queue.Queue) -> None:
    while not inbox.empty():
        inbox.get_nowait()


def _collect(inbox: queue.Queue, expected: int, *, quiet: float) -> int:
    """Count deliveries until all arrived or none came for ``quiet`` seconds."""
    seen: set[int] = set()
    while len(seen) < expected:
        try:
            seen.add(inbox.get(timeout=quiet)[0])
        except queue.Empty:
            break
    return len(seen)


if __name__ == "__main__":
    main()
