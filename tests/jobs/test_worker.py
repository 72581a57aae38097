"""The real worker (``manage.py worker``, RQ underneath) in subprocesses, on a database
file and the suite's Redis: mail after commit and never for a rollback, a job committed
while Redis was frozen runs once it is back (and its event is published), a job delivered
twice mails once, the flush runs on its schedule, SIGTERM ends the worker, retries end in
the failed registry."""

from __future__ import annotations

import os
import signal
import sqlite3
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import cast

import django_rq
import pytest
from django.conf import settings
from django_tasks_rq import Job as TaskJob
from rq.registry import FailedJobRegistry, StartedJobRegistry

from project.events import keys as event_keys
from project.events.envelope import Event
from project.redis.local import BASE_DIR
from scripts.topology import sentinel_failover, sentinel_settled
from tests.integration.servers import migrate, shell
from tests.own_redis import SnapshotRedis

pytestmark = pytest.mark.redis

Env = dict[str, str]
PASSWORD = "a-Long-pass-123"


@pytest.fixture
def env(tmp_path: Path) -> Env:
    """The environment of the subprocesses: a database file of this test, mail as files,
    the attempts of the failing tasks as lines of a file."""
    environ = {
        **os.environ,
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "EMAIL_BACKEND": "django.core.mail.backends.filebased.EmailBackend",
        "EMAIL_FILE_PATH": str(tmp_path / "mail"),
        "LOG_LEVEL": "INFO",
        "FAILING_LOG": str(tmp_path / "attempts"),  # tests/jobs/failing.py's tasks write there
    }
    migrate(environ)
    return environ


def burst(env: Env) -> None:
    result = subprocess.run(
        [sys.executable, "manage.py", "worker", "--burst"],
        cwd=BASE_DIR, env=env, capture_output=True, text=True, timeout=60, check=False,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr


def subjects(env: Env) -> list[str]:
    folder = Path(env["EMAIL_FILE_PATH"])
    if not folder.exists():
        return []
    return sorted(
        line.removeprefix("Subject: ")
        for mail in folder.iterdir()
        for line in mail.read_text().splitlines()
        if line.startswith("Subject: ")
    )


def create_user(name: str) -> str:
    return f"User.objects.create_user({name!r}, {name + '@example.com'!r}, {PASSWORD!r})"


@pytest.fixture
def running_worker(env: Env) -> Iterator[Callable[..., subprocess.Popen[str]]]:
    started: list[subprocess.Popen[str]] = []

    def start(**extra: str) -> subprocess.Popen[str]:
        process = subprocess.Popen(
            [sys.executable, "manage.py", "worker"], cwd=BASE_DIR, env={**env, **extra},
            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )  # fmt: skip
        started.append(process)
        return process

    yield start
    for process in started:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            try:
                process.wait(20)
            except subprocess.TimeoutExpired:
                process.kill()


def until(
    condition: Callable[[], bool], *, timeout: float = 30, state: Callable[[], object] = str
) -> None:
    """Wait for ``condition``; past ``timeout``, fail with what ``state()`` says."""
    deadline = time.monotonic() + timeout
    while not condition():
        assert time.monotonic() < deadline, f"not within the time limit: {state()}"
        time.sleep(0.1)


def test_a_new_user_is_welcomed_after_commit_and_a_rolled_back_one_never(env: Env) -> None:
    shell(env, f"""
from django.db import transaction
from users.models import User
try:
    with transaction.atomic():
        {create_user("ghost")}
        raise RuntimeError
except RuntimeError:
    pass
{create_user("welcomed")}
""")  # fmt: skip
    burst(env)
    assert subjects(env) == ["Welcome, welcomed!"]
    burst(env)
    assert subjects(env) == ["Welcome, welcomed!"]


def test_a_job_delivered_twice_mails_once(env: Env) -> None:
    shell(env, f"""
from users.models import User
from users.tasks import send_welcome
user = {create_user("twice")}
send_welcome.enqueue(user.pk)  # as a relay whose delete was lost would
""")  # fmt: skip
    assert django_rq.get_queue("default").count == 2
    burst(env)
    assert subjects(env) == ["Welcome, twice!"]


def test_a_job_committed_while_redis_was_frozen_runs_once_it_is_back(
    env: Env, snapshot_server: SnapshotRedis
) -> None:
    own = {**env, "REDIS_URL": snapshot_server.server.url, "TASKS_REDIS_URL": ""}
    redis_pid = int((snapshot_server.server.directory / "redis.pid").read_text())
    os.kill(redis_pid, signal.SIGSTOP)
    try:  # the process commits, fails to hand the job off, and exits
        out = shell(own, f"""
from jobs.models import OutboxJob
from users.models import User
{create_user("patient")}
print(OutboxJob.objects.count())
""")  # fmt: skip
    finally:
        os.kill(redis_pid, signal.SIGCONT)
    assert out.split() == ["2"]  # its welcome mail, and its user.created event
    assert subjects(own) == []
    burst(own)
    assert subjects(own) == ["Welcome, patient!"]
    stream = cast(
        "list[tuple[bytes, dict[bytes, bytes]]]",
        snapshot_server.client().xrange(event_keys.stream("users")),
    )
    assert [Event.from_json(fields[b"event"]).type for _, fields in stream] == ["user.created"]
    burst(own)
    assert subjects(own) == ["Welcome, patient!"]


def test_the_flush_runs_on_its_schedule_and_sigterm_ends_the_worker(
    env: Env, running_worker: Callable[..., subprocess.Popen[str]]
) -> None:
    shell(env, f"""
from users import counters
from users.models import User
user = {create_user("viewed")}
for _ in range(3):
    counters.count_view(user.pk)
""")  # fmt: skip
    database = env["DATABASE_URL"].removeprefix("sqlite:///")

    def views() -> int:
        with sqlite3.connect(database) as db:
            row = db.execute("SELECT profile_views FROM users_user WHERE username='viewed'")
            return int(row.fetchone()[0])

    worker = running_worker(COUNTER_FLUSH_SECONDS="1")
    until(lambda: views() == 3)
    worker.send_signal(signal.SIGTERM)
    assert worker.wait(timeout=10) == 0
    output = worker.stdout.read() if worker.stdout else ""
    assert "users.tasks.flush_counters" in output


def test_a_failing_job_is_retried_then_kept_in_the_failed_registry(
    env: Env, running_worker: Callable[..., subprocess.Popen[str]]
) -> None:
    log = Path(env["FAILING_LOG"])
    shell(env, "from tests.jobs.failing import always_fails; always_fails.enqueue()")
    running_worker()
    queue = django_rq.get_queue("default")
    registry = FailedJobRegistry(queue=queue)
    until(lambda: registry.count == 1)
    assert log.read_text().count("attempt") == 3  # the first run and two retries
    registry.requeue(registry.get_job_ids()[0])  # what the admin's "requeue" does
    until(lambda: log.read_text().count("attempt") == 4)


def test_a_job_past_its_time_limit_is_killed_and_retried(
    env: Env, running_worker: Callable[..., subprocess.Popen[str]]
) -> None:
    log = Path(env["FAILING_LOG"])
    shell(env, "from tests.jobs.failing import too_slow; too_slow.enqueue()")
    running_worker()
    registry = FailedJobRegistry(queue=django_rq.get_queue("default"))
    # Unkilled, the two attempts would sleep 60 s: longer than until() waits.
    until(lambda: registry.count == 1)
    assert log.read_text().count("attempt") == 2  # killed at 1 s, retried once, killed again


def test_the_worker_rides_through_a_sentinel_failover(
    env: Env, running_worker: Callable[..., subprocess.Popen[str]]
) -> None:
    if settings.REDIS_TOPOLOGY.kind != "sentinel":
        pytest.skip("needs the Sentinel topology (make test-sentinel)")
    worker = running_worker()
    shell(env, f"from users.models import User\n{create_user('before')}")
    until(lambda: subjects(env) == ["Welcome, before!"])
    try:
        sentinel_failover()
        shell(env, f"from users.models import User\n{create_user('after')}")
        # Handed off at its commit, or by the relay once the new primary answers.
        until(lambda: subjects(env) == ["Welcome, after!", "Welcome, before!"], timeout=60)
        assert worker.poll() is None
    finally:
        sentinel_settled()  # the tests after this one write to the new primary only


def test_a_job_whose_worker_was_killed_mid_way_runs_again(
    env: Env, running_worker: Callable[..., subprocess.Popen[str]]
) -> None:
    log = Path(env["FAILING_LOG"])
    job_id = shell(
        env, "from tests.jobs.failing import killed_once; print(killed_once.enqueue().id)"
    ).strip()
    first = running_worker()
    assert first.stdout is not None
    rq_pid = int(first.stdout.readline().split()[3])  # "worker: RQ worker <pid> on default"
    until(lambda: log.exists() and "attempt" in log.read_text())
    horse = int(log.read_text().split()[1])  # RQ runs each job in a forked "work horse"
    os.killpg(rq_pid, signal.SIGKILL)  # RQ's worker (and its scheduler), mid-job
    os.kill(horse, signal.SIGKILL)  # the horse is in a session of its own
    first.kill()
    first.wait()
    queue = django_rq.get_queue("default", job_class=TaskJob)  # the worker's job class
    started = StartedJobRegistry(queue=queue, job_class=TaskJob)
    assert started.count == 1  # left "started" by the dead worker
    # RQ calls a started job abandoned once its heartbeat (at least 61 s) has expired, when
    # a worker cleans its registries; run that clean-up as of then instead of waiting.
    started.cleanup(timestamp=time.time() + 120)
    running_worker()
    until(lambda: log.read_text().count("attempt") == 2)

    def registries() -> dict[str, object]:  # what the failure says, if it comes to that
        return {
            "log": log.read_text(),
            "jobs": {job.id: job.get_status() for job in queue.get_jobs()},
            "started": started.get_job_ids(),
            "failed": queue.failed_job_registry.get_job_ids(),
            "finished": queue.finished_job_registry.get_job_ids(),
            "scheduled": queue.scheduled_job_registry.get_job_ids(),
        }

    # The periodic jobs the worker enqueues as it starts finish there too.
    until(lambda: job_id in queue.finished_job_registry.get_job_ids(), state=registries)


def test_no_rq_worker_outlives_its_manage_py_worker(
    running_worker: Callable[..., subprocess.Popen[str]],
) -> None:
    worker = running_worker()
    assert worker.stdout is not None
    rq_pid = int(worker.stdout.readline().split()[3])  # "worker: RQ worker <pid> on default"
    worker.kill()  # SIGKILL: no chance to pass anything on
    worker.wait()

    def gone() -> bool:
        # Reparented when its parent died, it may stay a zombie until init reaps it.
        try:
            return "State:\tZ" in Path(f"/proc/{rq_pid}/status").read_text()
        except FileNotFoundError:
            return True

    until(gone)
