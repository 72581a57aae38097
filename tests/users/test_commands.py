"""What ``flush_counters`` and ``rebuild_indexes`` say: one result line, printed once; a
progress bar on a terminal only (never with ``--verbosity 0``), advanced as Redis takes
each batch of users."""

from __future__ import annotations

import fcntl
import io
import logging
import os
import re
import struct
import subprocess
import sys
import termios
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from django.core.management import call_command
from redis import Redis

from project.redis.client import get_client
from project.redis.local import BASE_DIR
from tests.integration.servers import migrate, shell
from users import counters, keys, leaderboard, tags, tasks
from users.management.commands import _progress
from users.models import User

pytestmark = [pytest.mark.redis, pytest.mark.django_db]


class Terminal(io.StringIO):
    """A stream that says it is a terminal, as a person's shell is."""

    def isatty(self) -> bool:
        return True


def run(command: str, *, stderr: io.StringIO | None = None, **options: Any) -> tuple[str, str]:
    out, err = io.StringIO(), stderr if stderr is not None else io.StringIO()
    call_command(command, stdout=out, stderr=err, **options)
    return out.getvalue(), err.getvalue()


@pytest.fixture
def three_users(make_user: Callable[..., User]) -> list[User]:
    users = [make_user(points=10 * i) for i in range(3)]
    users[0].tags.create(tag="redis")
    users[1].tags.create(tag="python")
    return users


def test_rebuild_indexes_prints_one_line_with_its_counts_and_time(three_users: list[User]) -> None:
    out, err = run("rebuild_indexes")
    assert re.fullmatch(
        r"rebuild_indexes: 2 tags indexed, 3 users on the leaderboard in \d+\.\d s\n", out
    )
    assert err == ""  # not a terminal: no bar


def test_flush_counters_prints_one_line_and_logs_no_second_copy(
    three_users: list[User], caplog: pytest.LogCaptureFixture
) -> None:
    for user in three_users[:2]:
        counters.count_view(user.pk)
    counters.count_login(three_users[0].pk)
    with caplog.at_level(logging.INFO, logger="users"):
        out, err = run("flush_counters")
    assert re.fullmatch(r"flush_counters: flushed 3 increments for 2 users in \d+\.\d s\n", out)
    assert err == ""
    assert not [r for r in caplog.records if "flushed" in r.getMessage()]
    # The worker's periodic flush says its result in the log.
    counters.count_view(three_users[2].pk)
    with caplog.at_level(logging.INFO, logger="users"):
        tasks.flush_counters.call()
    assert [r.getMessage() for r in caplog.records] == [
        "counters: flushed 1 increments for 1 users"
    ]


def test_flush_counters_with_nothing_pending_says_so(db: None) -> None:
    out, _ = run("flush_counters")
    assert re.fullmatch(r"flush_counters: flushed 0 increments for 0 users in \d+\.\d s\n", out)


@pytest.mark.parametrize("command", ["flush_counters", "rebuild_indexes"])
def test_verbosity_0_prints_nothing_even_on_a_terminal(
    command: str, three_users: list[User]
) -> None:
    counters.count_view(three_users[0].pk)
    assert run(command, stderr=Terminal(), verbosity=0) == ("", "")


def test_rebuild_indexes_draws_a_bar_per_index_on_a_terminal(three_users: list[User]) -> None:
    out, err = run("rebuild_indexes", stderr=Terminal())
    assert "tags:" in err
    assert "leaderboard:" in err
    assert "/3 [" in err
    assert out.count("\n") == 1  # the bars are cleared; the result is the one line that stays


def test_flush_counters_names_each_step_on_a_terminal(three_users: list[User]) -> None:
    counters.count_view(three_users[0].pk)
    out, err = run("flush_counters", stderr=Terminal())
    for step in (
        "claiming and applying the counts (step 1/3)",
        "committing (step 2/3)",
        "dropping the claim (step 3/3)",
    ):
        assert f"flush_counters: {step}" in err
    assert "flushed 1 increments for 1 users" in out


class Recorder:
    """Stands in for a bar: what each ``update`` was told."""

    def __init__(self) -> None:
        self.updates: list[int] = []

    def update(self, n: int) -> None:
        self.updates.append(n)


@pytest.mark.parametrize(
    ("rebuild", "unit"), [(tags.rebuild, "delete"), (leaderboard.rebuild, "zadd")]
)
def test_the_bar_advances_by_each_batch_of_users_redis_took(
    rebuild: Callable[..., int],
    unit: str,
    make_user: Callable[..., User],
    redis_client: Redis,
) -> None:
    users = [make_user(points=i) for i in range(5)]
    for user in users:
        user.tags.create(tag=f"t{user.pk % 2}")
    count = rebuild()
    built = snapshot(redis_client)
    assert built
    for key in built:
        redis_client.delete(key)
    recorder = Recorder()
    client = _progress.batched(get_client(), recorder, unit=unit, batch=2)  # type: ignore[arg-type]
    assert rebuild(client=client) == count
    assert [n for n in recorder.updates if n] == [2, 2, 1]  # sent every 2 users, then the rest
    assert snapshot(redis_client) == built  # the same index, sent in parts


def snapshot(client: Redis) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for key in client.scan_iter(match=f"{keys.leaderboard().split(':')[0]}:users:*"):
        name = key.decode()
        if client.type(key) == b"set":
            found[name] = sorted(client.smembers(key))
        elif client.type(key) == b"zset":
            found[name] = client.zrange(key, 0, -1, withscores=True)
    return found


# --- In a process of their own, as a person runs them --------------------------------


@pytest.fixture
def env(tmp_path: Path) -> dict[str, str]:
    environ = {**os.environ, "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}"}
    migrate(environ)
    return environ


def manage_py(env: dict[str, str], *args: str, **popen: Any) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "manage.py", *args],
        cwd=BASE_DIR, env=env, text=True, timeout=60, check=False, **popen,
    )  # fmt: skip


def test_flush_counters_says_its_result_once_in_its_own_process(env: dict[str, str]) -> None:
    pk = int(
        shell(env, "from users.models import User; print(User.objects.create(username='a').pk)")
    )
    counters.count_view(pk)  # the same Redis as the process's
    result = manage_py(env, "flush_counters", stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    assert result.returncode == 0, result.stdout
    assert result.stdout.count("flushed 1 increments for 1 users") == 1, result.stdout
    assert "step 1/3" not in result.stdout  # a pipe is no terminal: no bar


def test_rebuild_indexes_draws_its_bars_on_a_real_terminal(env: dict[str, str]) -> None:
    shell(env, "from users.models import User; User.objects.create(username='a')")
    terminal, own_end = os.openpty()
    # 100 columns: a new pseudo-terminal is 0 wide, and tqdm draws nothing on 0 columns.
    fcntl.ioctl(own_end, termios.TIOCSWINSZ, struct.pack("HHHH", 24, 100, 0, 0))
    with subprocess.Popen(
        [sys.executable, "manage.py", "rebuild_indexes"], cwd=BASE_DIR, env=env,
        stdout=subprocess.PIPE, stderr=own_end, text=True,
    ) as process:  # fmt: skip
        os.close(own_end)
        drawn = read_until_closed(terminal)
        out = process.stdout.read() if process.stdout else ""
    assert process.returncode == 0, drawn
    assert "tags:" in drawn
    assert "leaderboard:" in drawn
    assert re.fullmatch(r"rebuild_indexes: 0 tags indexed, 1 users on the leaderboard in .*\n", out)


def read_until_closed(fd: int) -> str:
    chunks = []
    while True:
        try:
            chunk = os.read(fd, 4096)
        except OSError:  # EIO: the other end closed (the process exited)
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(fd)
    return b"".join(chunks).decode(errors="replace")
