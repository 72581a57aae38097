"""gunicorn's settings for this project: gunicorn reads ``./gunicorn.conf.py`` by itself.

``/metrics`` must be the same whichever worker answers a scrape, so the workers count into
files in one directory (prometheus-client's multiprocess mode) and a scrape sums them. The
directory is ``PROMETHEUS_MULTIPROC_DIR`` if the environment names one, else a fresh one
made here; either way it is emptied when gunicorn starts (counts of an earlier run would be
added to this one's) and a fresh one is removed when it stops. docs/observability.md.
"""

from __future__ import annotations

import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

_made = not os.environ.get("PROMETHEUS_MULTIPROC_DIR")
if _made:  # before any worker imports prometheus_client: it reads this at import
    os.environ["PROMETHEUS_MULTIPROC_DIR"] = tempfile.mkdtemp(prefix="gunicorn-metrics-")


def on_starting(server: Any) -> None:
    folder = Path(os.environ["PROMETHEUS_MULTIPROC_DIR"])
    folder.mkdir(parents=True, exist_ok=True)
    for stale in folder.glob("*.db"):  # only prometheus-client's files
        stale.unlink()


def child_exit(server: Any, worker: Any) -> None:
    from prometheus_client import multiprocess

    multiprocess.mark_process_dead(worker.pid)


def on_exit(server: Any) -> None:
    if _made:
        shutil.rmtree(os.environ["PROMETHEUS_MULTIPROC_DIR"], ignore_errors=True)
