"""Background jobs (jobs/, RQ through django-tasks-rq): what an enqueue adds to a request,
jobs/s with 1 and 2 workers, enqueue-to-start latency, and how long the outbox takes to
hand off what was committed while the queue's Redis was unreachable. Every figure is
given beside a baseline measured in the same run.

    python bench/tasks.py [--db auto|sqlite|postgres] [--http-seconds 5]   (make bench-tasks)

1. In process, through Django's test client and the whole middleware stack: a DRF view
   that updates one row in a transaction, against the same view that also calls
   ``enqueue_on_commit`` of a no-op task in that transaction (outbox row, commit, hand-off
   to RQ, delete), and the one that calls ``task.enqueue()`` after its commit (RQ's part
   alone), timed round-robin. No worker runs: the jobs pile up and are dropped.
   (The views: bench/task_urls.py, under bench/task_settings.py.)
1b. The same three views over HTTP: gunicorn, 2 sync workers on loopback, loaded by wrk
   (POST, 16 connections) in ``--http-rounds`` runs of ``--http-seconds`` per view,
   interleaved; the median run's requests/s, p50 and p99, and enqueue/plain ratios. No
   worker: the queue is emptied afterwards, and the outbox checked empty (every hand-off
   succeeded). Skipped without wrk.
2. ``manage.py worker --burst`` (1, then 2 at once) on a queue pre-filled with no-op jobs:
   wall time from start to exit, beside the same command on an empty queue (start-up);
   and, for comparison, RQ's SimpleWorker (no fork per job) through ``rqworker``.
3. One running ``manage.py worker``: a job records ``time.time()`` when it starts, against
   the time passed in at enqueue; one job at a time, idle worker. Baseline: a bare
   LPUSH/BLPOP hand-off between two processes on the same Redis.
4. The same worker; the bench's redis-server is SIGSTOPped, rows are committed through
   ``enqueue_on_commit`` (each hand-off fails after the socket timeout), Redis is resumed
   after ``--outage`` seconds, and the time is taken until the worker's periodic
   ``relay_outbox`` has handed every row off and each job has started.

Its own Redis (var/redis-bench) and database (bench.common.configure); worker output goes
to bench/out/tasks-worker.log. Every process started here is stopped here.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import IO, Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    ROOT,
    configure,
    gunicorn,
    interleaved,
    postgres_listening,
    summary,
    wrk,
)

OUT = ROOT / "bench" / "out"
WORKER_LOG = OUT / "tasks-worker.log"
# bench/task_urls.py's views, by the names the report gives them.
PATHS = {"plain": "/bench/plain/", "enqueue": "/bench/enqueue/", "direct_enqueue": "/bench/direct/"}
POST_LUA = 'wrk.method = "POST"\n'
HTTP_WORKERS, HTTP_CONNECTIONS = 2, 16  # as bench/http_load.py's smaller server
FLOOR_CONSUMER = """
import sys, time, redis
r = redis.Redis(unix_socket_path=sys.argv[1])
while True:
    _, value = r.blpop("bench:floor:in")
    if value == b"stop":
        break
    r.rpush("bench:floor:out", value + b" " + repr(time.time()).encode())
"""


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--db", choices=("auto", "sqlite", "postgres"), default="auto")
    parser.add_argument("--n", type=int, default=1500, help="requests per variant (1)")
    parser.add_argument("--http-rounds", type=int, default=4, help="wrk runs per variant (1b)")
    parser.add_argument("--http-seconds", type=int, default=5, help="seconds per wrk run (1b)")
    parser.add_argument("--jobs", type=int, default=1500, help="no-op jobs per drain (2)")
    parser.add_argument("--latency-n", type=int, default=400, help="jobs timed one by one (3)")
    parser.add_argument("--outage-jobs", type=int, default=20, help="rows committed (4)")
    parser.add_argument("--outage", type=float, default=10.0, help="seconds Redis is stopped")
    args = parser.parse_args()
    db = args.db if args.db != "auto" else ("postgres" if postgres_listening() else "sqlite")
    configure(db)
    # The project's settings and URLs, and the bench's views (bench/task_urls.py): here, in
    # the workers, and in the gunicorn of 1b alike.
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.task_settings"
    os.environ["LOG_LEVEL"] = "ERROR"  # the outage's hand-off warnings, in this process too

    import django

    django.setup()
    import logging

    from django.core.management import call_command

    logging.getLogger("jobs").setLevel(logging.ERROR)
    call_command("migrate", verbosity=0)

    from bench.task_urls import ROW
    from jobs.models import Done, OutboxJob
    from project.redis.client import get_client

    get_client().flushdb()
    OutboxJob.objects.all().delete()
    Done.objects.update_or_create(key=ROW)
    OUT.mkdir(parents=True, exist_ok=True)
    report: dict[str, Any] = {"database": db}
    with open(WORKER_LOG, "w") as log:
        report["request"] = request_cost(args.n)
        print_request(report["request"])
        if shutil.which("wrk"):
            report["http"] = over_http(args.http_rounds, args.http_seconds)
            print_http(report["http"])
        else:
            print("\n1b. over HTTP: skipped, wrk is not installed (make bench installs it)")
        report["throughput"] = throughput(args.jobs, log)
        print_throughput(report["throughput"])
        worker = start_worker(log)
        try:
            wait_idle()
            report["latency"] = latency(args.latency_n)
            print_latency(report["latency"])
            report["outage"] = outage(args.outage_jobs, args.outage, report)
            print_outage(report["outage"])
        finally:
            stop(worker)
    (OUT / "tasks.json").write_text(json.dumps(report, indent=2))


# --- 1. the request ----------------------------------------------------------------------


def request_cost(n: int) -> dict[str, Any]:
    import django_rq
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from project.redis.local import LocalRedis

    client = Client()

    def post(url: str) -> Callable[[], object]:
        def call() -> object:
            response = client.post(url)
            assert response.status_code == 200, response.content
            return response

        return call

    calls = {name: post(url) for name, url in PATHS.items()}
    timings = interleaved(calls, n)
    # What one request does, counted on a separate pass: SQL, and on the Redis server
    # (INFO: commands and connections accepted, less the INFO calls themselves).
    server = LocalRedis.from_environ().client(timeout=5)
    result: dict[str, Any] = {"n": n}
    for name, call in calls.items():
        before = server.info("stats")
        with CaptureQueriesContext(connection) as queries:
            for _ in range(100):
                call()
        after = server.info("stats")
        result[name] = {
            **timings[name],
            "sql": len(queries) / 100,
            "redis_commands": (
                after["total_commands_processed"] - before["total_commands_processed"] - 1
            )
            / 100,
            "redis_connections": (
                after["total_connections_received"] - before["total_connections_received"]
            )
            / 100,
        }
    plain, enqueue = result["plain"], result["enqueue"]
    result["added_us"] = round(enqueue["median_us"] - plain["median_us"], 1)
    result["ratio"] = round(enqueue["median_us"] / plain["median_us"], 2)
    direct = result["direct_enqueue"]
    result["direct_added_us"] = round(direct["median_us"] - plain["median_us"], 1)
    django_rq.get_queue("default").empty()  # nothing ran them; nothing will
    return result


def print_request(r: dict[str, Any]) -> None:
    print(
        f"\n1. a request (DRF view, one UPDATE in a transaction) through the test client, "
        f"{r['n']} each"
    )
    print(f"{'':14} {'median µs':>10} {'p99 µs':>8} {'SQL':>5} {'Redis cmds':>10} {'conns':>6}")
    for name in ("plain", "enqueue", "direct_enqueue"):
        row = r[name]
        print(
            f"{name:14} {row['median_us']:10.0f} {row['p99_us']:8.0f} {row['sql']:5.1f} "
            f"{row['redis_commands']:10.1f} {row['redis_connections']:6.2f}"
        )
    print(
        f"enqueue_on_commit adds {r['added_us']:.0f} µs per request: {r['ratio']}× the plain "
        f"view (task.enqueue() after the commit, no outbox: {r['direct_added_us']:.0f} µs)"
    )


# --- 1b. the request over HTTP ---------------------------------------------------------


def over_http(rounds: int, seconds: int) -> dict[str, Any]:
    """The same views served by gunicorn (2 sync workers), loaded by wrk: ``rounds`` runs of
    ``seconds`` per view, interleaved (the order reversed every other round), so machine
    noise hits each view alike; the median run of each. No worker: the jobs pile up in the
    queue and are dropped after gunicorn has stopped."""
    import django_rq

    from jobs.models import OutboxJob

    begin = time.monotonic()
    queue = django_rq.get_queue("default")
    queue.empty()
    runs: dict[str, list[dict[str, Any]]] = {name: [] for name in PATHS}

    def load(url: str, seconds: int) -> dict[str, Any]:
        return wrk(url, seconds, lua=POST_LUA, connections=HTTP_CONNECTIONS)

    with gunicorn(HTTP_WORKERS, port=8766) as base:  # http_load.py's 8765 left to it
        for url in PATHS.values():  # warm up: both workers' connections and code paths
            load(base + url, 1)
        for i in range(rounds):
            for name in list(PATHS)[:: -1 if i % 2 else 1]:
                run = load(base + PATHS[name], seconds)
                assert run["non_2xx"] == 0, f"{name}: {run['non_2xx']} non-2xx responses"
                runs[name].append(run)
    # gunicorn stopped gracefully: every request it took has finished, and handed its job off.
    queued = queue.count
    queue.empty()  # nothing ran them; nothing will
    left = OutboxJob.objects.count()
    OutboxJob.objects.all().delete()
    counted = sum(run["requests"] for name in ("enqueue", "direct_enqueue") for run in runs[name])
    assert queued >= counted, f"{queued} jobs queued for {counted} enqueueing requests"
    result: dict[str, Any] = {
        "workers": HTTP_WORKERS,
        "connections": HTTP_CONNECTIONS,
        "rounds": rounds,
        "seconds": seconds,
        "jobs_queued": queued,
        "left_in_outbox": left,
        "duration_s": round(time.monotonic() - begin, 1),
    }
    for name, values in runs.items():
        result[name] = {
            key: statistics.median(run[key] for run in values)
            for key in ("requests_per_second", "p50_us", "p99_us")
        }
        result[name]["runs"] = values
    plain = result["plain"]
    for name, prefix in (("enqueue", ""), ("direct_enqueue", "direct_")):
        row = result[name]
        result[f"{prefix}rps_ratio"] = round(
            row["requests_per_second"] / plain["requests_per_second"], 2
        )
        result[f"{prefix}p50_ratio"] = round(row["p50_us"] / plain["p50_us"], 2)
    return result


def print_http(r: dict[str, Any]) -> None:
    print(
        f"\n1b. the same views over HTTP: gunicorn -w {r['workers']} (sync), wrk -t2 "
        f"-c{r['connections']}, {r['rounds']} interleaved runs × {r['seconds']} s each, "
        "median run"
    )
    print(f"{'':14} {'req/s':>8} {'p50 ms':>8} {'p99 ms':>8}")
    for name in PATHS:
        row = r[name]
        print(
            f"{name:14} {row['requests_per_second']:8.0f} {row['p50_us'] / 1000:8.2f} "
            f"{row['p99_us'] / 1000:8.2f}"
        )
    print(
        f"enqueue_on_commit: {r['rps_ratio']}× the plain view's requests/s, {r['p50_ratio']}× "
        f"its p50 (task.enqueue() after the commit: {r['direct_rps_ratio']}×, "
        f"{r['direct_p50_ratio']}×); {r['jobs_queued']} jobs handed off, "
        f"{r['left_in_outbox']} rows left in the outbox ({r['duration_s']} s in all)"
    )


# --- 2. jobs/s ---------------------------------------------------------------------------


def throughput(jobs: int, log: IO[str]) -> dict[str, Any]:
    import django_rq
    from rq.registry import FinishedJobRegistry

    from bench.task_probes import noop
    from project.redis.client import get_client

    queue = django_rq.get_queue("default")
    result: dict[str, Any] = {"jobs": jobs}
    for workers, simple in ((1, False), (2, False), (1, True)):
        row: dict[str, Any] = {}
        for filled in (False, True):
            get_client().flushdb()
            if filled:
                for _ in range(jobs):
                    noop.enqueue()
                assert queue.count == jobs
            begin = time.monotonic()
            bursts = [start_worker(log, burst=True, simple=simple) for _ in range(workers)]
            for process in bursts:
                assert process.wait(timeout=600) == 0, f"worker --burst exited {process.returncode}"
            elapsed = time.monotonic() - begin
            if filled:
                finished = FinishedJobRegistry(queue=queue).count
                assert queue.count == 0, queue.count
                assert finished >= jobs, finished
                row["drain_s"] = round(elapsed, 2)
            else:
                row["empty_s"] = round(elapsed, 2)
        row["jobs_per_s"] = round(jobs / row["drain_s"])
        row["jobs_per_s_past_startup"] = round(jobs / max(0.01, row["drain_s"] - row["empty_s"]))
        result["simple_worker_1" if simple else f"workers_{workers}"] = row
    one, two = result["workers_1"], result["workers_2"]
    result["ratio_2_vs_1"] = round(two["jobs_per_s"] / one["jobs_per_s"], 2)
    result["ratio_2_vs_1_past_startup"] = round(
        two["jobs_per_s_past_startup"] / one["jobs_per_s_past_startup"], 2
    )
    result["ratio_simple_vs_1_past_startup"] = round(
        result["simple_worker_1"]["jobs_per_s_past_startup"] / one["jobs_per_s_past_startup"], 2
    )
    get_client().flushdb()
    return result


def print_throughput(r: dict[str, Any]) -> None:
    print(f"\n2. manage.py worker --burst on {r['jobs']} queued no-op jobs (wall time to exit)")
    print(f"{'':16} {'drain s':>8} {'empty s':>8} {'jobs/s':>7} {'past start-up':>14}")
    for name in ("workers_1", "workers_2", "simple_worker_1"):
        row = r[name]
        print(
            f"{name:16} {row['drain_s']:8.2f} {row['empty_s']:8.2f} {row['jobs_per_s']:7} "
            f"{row['jobs_per_s_past_startup']:14}"
        )
    print(
        f"2 workers: {r['ratio_2_vs_1']}× the jobs/s of 1 "
        f"({r['ratio_2_vs_1_past_startup']}× past start-up); RQ's SimpleWorker (no fork per "
        f"job, rqworker directly): {r['ratio_simple_vs_1_past_startup']}× past start-up"
    )


# --- 3. enqueue-to-start latency --------------------------------------------------------------


def latency(n: int) -> dict[str, Any]:
    from django.db import transaction

    from bench.task_probes import stamp
    from jobs.services import enqueue_on_commit
    from project.redis.local import LocalRedis

    server = LocalRedis.from_environ()
    waiter = server.client(timeout=30)
    floor = subprocess.Popen([sys.executable, "-c", FLOOR_CONSUMER, str(server.socket_path)])
    try:

        def timed(enqueue: Callable[[float], object], key: str) -> Callable[[], float]:
            def sample() -> float:
                time.sleep(0.01)  # the worker back in its blocking wait: an idle worker
                enqueued = time.time()
                enqueue(enqueued)
                popped = waiter.blpop([key], timeout=20)
                assert popped is not None, f"{key}: nothing within 20 s"
                sent, started = (float(x) for x in popped[1].split())
                assert sent == enqueued
                return (started - sent) * 1e6

            return sample

        def on_commit(t: float) -> None:
            with transaction.atomic():
                enqueue_on_commit(stamp, "bench:lat:commit", t)

        kinds = {
            "floor_blpop": timed(
                lambda t: waiter.lpush("bench:floor:in", repr(t)), "bench:floor:out"
            ),
            "rq_enqueue": timed(lambda t: stamp.enqueue("bench:lat:rq", t), "bench:lat:rq"),
            "rq_enqueue_on_commit": timed(on_commit, "bench:lat:commit"),
        }
        for _ in range(20):  # warm up
            for sample in kinds.values():
                sample()
        samples: dict[str, list[float]] = {name: [] for name in kinds}
        for _ in range(n):
            for name, sample in kinds.items():
                samples[name].append(sample())
    finally:
        waiter.lpush("bench:floor:in", "stop")
        stop(floor)
    result: dict[str, Any] = {"n": n}
    for name, values in samples.items():
        result[name] = {**summary(values), "p50_us": statistics.median(values)}
        result[name].pop("median_us")
    base = result["floor_blpop"]["p50_us"]
    for name in ("rq_enqueue", "rq_enqueue_on_commit"):
        result[name]["p50_vs_floor"] = round(result[name]["p50_us"] / base, 1)
    return result


def print_latency(r: dict[str, Any]) -> None:
    print(f"\n3. enqueue to start, one idle worker, {r['n']} jobs one at a time")
    print(f"{'':22} {'p50 µs':>8} {'p99 µs':>8} {'× floor p50':>12}")
    for name in ("floor_blpop", "rq_enqueue", "rq_enqueue_on_commit"):
        row = r[name]
        print(
            f"{name:22} {row['p50_us']:8.0f} {row['p99_us']:8.0f} {row.get('p50_vs_floor', 1.0):12}"
        )


# --- 4. the outbox after an outage ------------------------------------------------------------


def outage(jobs: int, seconds: float, report: dict[str, Any]) -> dict[str, Any]:
    from django.db import transaction

    from bench.task_probes import stamp
    from jobs.models import OutboxJob
    from jobs.services import enqueue_on_commit
    from project.redis.local import LocalRedis

    server = LocalRedis.from_environ()
    pid = redis_pid(server.directory)
    key = "bench:outage"
    request_s = []
    os.kill(pid, signal.SIGSTOP)
    stopped = time.monotonic()
    try:
        for _ in range(jobs):
            begin = time.perf_counter()
            with transaction.atomic():
                enqueue_on_commit(stamp, key, time.time())
            request_s.append(time.perf_counter() - begin)
        left = OutboxJob.objects.count()
        time.sleep(max(0.0, seconds - (time.monotonic() - stopped)))
    finally:
        os.kill(pid, signal.SIGCONT)
    back = time.time()
    back_monotonic = time.monotonic()
    outage_s = back_monotonic - stopped
    waiter = server.client(timeout=5)
    handed_off_s = None
    deadline = back_monotonic + 60
    while time.monotonic() < deadline:
        if handed_off_s is None and not OutboxJob.objects.exists():
            handed_off_s = time.monotonic() - back_monotonic
        if waiter.llen(key) >= jobs and handed_off_s is not None:
            break
        time.sleep(0.02)
    starts = [float(entry.split()[1]) for entry in waiter.lrange(key, 0, -1)]
    after_back = sorted(started - back for started in starts)
    normal_us = report["request"]["enqueue"]["median_us"]
    frozen_us = statistics.median(request_s) * 1e6
    normal_p50_s = report["latency"]["rq_enqueue_on_commit"]["p50_us"] / 1e6
    all_ran_s = after_back[-1] if len(after_back) >= jobs else None
    return {
        "jobs": jobs,
        "outage_s": round(outage_s, 1),
        "left_in_outbox": left,
        "request_while_frozen_ms": round(frozen_us / 1000, 1),
        "request_while_frozen_vs_normal": round(frozen_us / normal_us, 1),
        "handed_off_s": None if handed_off_s is None else round(handed_off_s, 2),
        "ran": len(after_back),
        "first_start_s": round(after_back[0], 2) if after_back else None,
        "all_started_s": None if all_ran_s is None else round(all_ran_s, 2),
        "all_started_vs_normal_p50": None if all_ran_s is None else round(all_ran_s / normal_p50_s),
    }


def print_outage(r: dict[str, Any]) -> None:
    print(
        f"\n4. {r['jobs']} jobs committed while the queue's Redis was stopped "
        f"({r['outage_s']} s, SIGSTOP), then resumed"
    )
    print(
        f"a request that enqueues while Redis is frozen: {r['request_while_frozen_ms']} ms "
        f"({r['request_while_frozen_vs_normal']}× a normal one); "
        f"{r['left_in_outbox']} rows left in the outbox"
    )
    print(
        f"after Redis is back: outbox empty at {r['handed_off_s']} s, first job started at "
        f"{r['first_start_s']} s, all {r['ran']} started at {r['all_started_s']} s "
        f"({r['all_started_vs_normal_p50']}× the normal enqueue_on_commit-to-start p50)"
    )


# --- processes ------------------------------------------------------------------------


def start_worker(
    log: IO[str], *, burst: bool = False, simple: bool = False
) -> subprocess.Popen[bytes]:
    """``manage.py worker``; ``simple``: RQ's worker without a fork per job, through
    django-rq's ``rqworker`` (the project's command has no such option)."""
    command = [sys.executable, "manage.py", "worker", *(["--burst"] if burst else [])]
    if simple:
        command = [sys.executable, "manage.py", "rqworker", "default", "--burst",
                   "--with-scheduler", "--worker-class", "rq.worker.SimpleWorker"]  # fmt: skip
    return subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT)


def stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is None:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_idle() -> None:
    """Until one RQ worker is registered and idle and the jobs the worker enqueues on its
    start (the periodic ones) have run."""
    import django_rq
    from rq.worker import Worker, WorkerStatus

    connection = django_rq.get_connection("default")
    queue = django_rq.get_queue("default")
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        workers = Worker.all(connection=connection)
        if workers and all(w.get_state() == WorkerStatus.IDLE for w in workers) and not queue.count:
            time.sleep(0.5)
            return
        time.sleep(0.1)
    raise RuntimeError("the worker did not become idle within 60 s (bench/out/tasks-worker.log)")


def redis_pid(directory: Path) -> int:
    """The bench's own redis-server (var/redis-bench), checked before it is stopped."""
    pid = int((directory / "redis.pid").read_text())
    command = Path(f"/proc/{pid}/cmdline").read_bytes()
    if b"redis-server" not in command:
        raise RuntimeError(f"pid {pid} is not a redis-server: {command!r}")
    return pid


if __name__ == "__main__":
    main()
