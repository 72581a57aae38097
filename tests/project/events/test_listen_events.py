"""What ``manage.py listen_events`` says when it stops: one line, with what it handled."""

from __future__ import annotations

import os
import re
import signal
import subprocess
import sys
import threading

import pytest
from redis import Redis

from project.events import keys as event_keys
from project.redis.local import BASE_DIR

pytestmark = pytest.mark.redis


def test_listen_events_says_what_it_handled_when_it_stops(redis_client: Redis) -> None:
    process = subprocess.Popen(
        [sys.executable, "manage.py", "listen_events", "--topic", "tests"],
        cwd=BASE_DIR, env={**os.environ, "LOG_LEVEL": "INFO"},
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip
    guard = threading.Timer(20, process.kill)  # a hang fails the test, never the suite
    guard.start()
    try:
        assert process.stderr is not None
        for line in process.stderr:  # wait until it is subscribed
            if "subscribed to" in line:
                break
        redis_client.publish(event_keys.channel("tests"), b"not an event")
        for line in process.stderr:  # the listener logs what it skips
            if "skipped a malformed event" in line:
                break
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=5)
    finally:
        guard.cancel()
        process.kill()
    assert process.returncode == 0
    assert re.fullmatch(
        r"listen_events: 0 events in \d+\.\d s \(1 malformed, 1 subscriptions\)\n", out
    ), out
