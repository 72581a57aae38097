"""``manage.py`` as a person meets it: a configuration mistake is one line and a non-zero
exit, never a traceback (a bug keeps its traceback); the project's own Redis is announced
by the commands that start the app, not by every command; the make targets that run them."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import threading
from pathlib import Path

import pytest

from project.redis.local import BASE_DIR
from tests.conftest import Manage

BANNER = "project redis-server"


@pytest.mark.parametrize(
    ("command", "environ", "said"),
    [
        (
            "flush_counters",  # as the README writes it: DEBUG off, no secret key
            {"DJANGO_DEBUG": "", "DJANGO_SECRET_KEY": ""},
            "DJANGO_SECRET_KEY must be set when DJANGO_DEBUG is off: set it",
        ),
        ("check", {"DJANGO_DEBUG": "maybe"}, "DJANGO_DEBUG='maybe' is not a boolean"),
        ("check", {"REDIS_URL": "foo://x"}, "REDIS_URL='foo://x' is not usable"),
        ("check", {"REDIS_SOCKET_TIMEOUT": "soon"}, "REDIS_SOCKET_TIMEOUT='soon' is not a number"),
        ("check", {"THROTTLE_RATES": "anon=100/min,login"}, "invalid THROTTLE_RATES item 'login'"),
        ("check", {"DATABASE_URL": "nope://x"}, "DATABASE_URL is not usable: Scheme 'nope://'"),
    ],
)
def test_a_configuration_mistake_is_one_line_and_a_failure(
    manage: Manage, command: str, environ: dict[str, str], said: str
) -> None:
    result = manage(command, **environ)
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert result.stderr.strip().splitlines() == [result.stderr.strip()], result.stderr
    assert result.stderr.startswith(f"Configuration error: {said}"), result.stderr


def test_no_redis_server_to_start_is_one_line_naming_what_to_set(
    manage: Manage, tmp_path: Path
) -> None:
    """REDIS_URL unset, nothing running in the local server's directory, and the binary
    named by REDIS_SERVER missing."""
    result = manage(
        "check", REDIS_URL="", LOCAL_REDIS_DIR=str(tmp_path), REDIS_SERVER="/nonexistent"
    )
    assert result.returncode != 0
    said = "Configuration error: REDIS_SERVER='/nonexistent' is not an executable file\n"
    assert result.stderr == said


@pytest.mark.parametrize("command", ["flush_counters", "rebuild_indexes"])
def test_redis_unreachable_is_one_line_from_the_command(manage: Manage, command: str) -> None:
    result = manage(command, REDIS_URL="redis://127.0.0.1:1/0")  # nothing listens on port 1
    assert result.returncode == 1
    assert result.stderr.startswith("CommandError: Redis unavailable (")
    assert len(result.stderr.strip().splitlines()) == 1, result.stderr


def test_an_invalid_rate_is_refused_by_the_system_check_without_a_traceback(
    manage: Manage,
) -> None:
    """Django's own report of a failed check: the error with its hint, a few lines."""
    result = manage("flush_counters", THROTTLE_RATES="anon=100/5fortnights")
    assert result.returncode != 0
    assert "Traceback" not in result.stderr
    assert "(ratelimit.E002) THROTTLE_RATES anon=100/5fortnights" in result.stderr


def test_an_error_raised_after_the_settings_keeps_its_traceback(manage: Manage) -> None:
    code = "from django.core.exceptions import ImproperlyConfigured as E; raise E('a bug')"
    result = manage("shell", "-c", code)
    assert result.returncode != 0
    assert "Traceback" in result.stderr
    assert "Configuration error" not in result.stderr


def test_help_still_works_without_the_settings(manage: Manage) -> None:
    result = manage("help", DJANGO_DEBUG="", DJANGO_SECRET_KEY="")
    assert result.returncode == 0
    assert "DJANGO_SECRET_KEY must be set" in result.stderr + result.stdout


# --- The local-Redis banner --------------------------------------------------------------


@pytest.mark.local_redis
@pytest.mark.parametrize("command", [["check"], ["diffsettings"]])
def test_one_off_commands_do_not_announce_the_local_redis(
    manage: Manage, command: list[str]
) -> None:
    result = manage(*command, REDIS_URL="")  # the suite's own server, found in LOCAL_REDIS_DIR
    assert result.returncode == 0, result.stderr
    assert BANNER not in result.stderr


@pytest.mark.local_redis
@pytest.mark.parametrize(
    ("command", "ready"),
    [
        (["runserver", "--noreload", "127.0.0.1:0"], "Quit the server with"),
        (["listen_events", "--topic", "tests"], "subscribed to"),
    ],
)
def test_commands_that_start_the_app_announce_the_local_redis(
    tmp_path: Path, command: list[str], ready: str
) -> None:
    env = {
        **os.environ, "REDIS_URL": "", "PYTHONUNBUFFERED": "1", "LOG_LEVEL": "INFO",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
    }  # fmt: skip
    process = subprocess.Popen(
        [sys.executable, "manage.py", *command], cwd=BASE_DIR, env=env,
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
    )  # fmt: skip
    guard = threading.Timer(30, process.kill)  # a hang fails the test, never the suite
    guard.start()
    said = []
    try:
        assert process.stdout is not None
        for line in process.stdout:
            said.append(line)
            if ready in line:
                break
        process.send_signal(signal.SIGTERM)
        process.wait(timeout=10)
    finally:
        guard.cancel()
        process.kill()
    assert any(ready in line for line in said), said
    assert sum(BANNER in line for line in said) == 1, said


# --- make targets ------------------------------------------------------------------------


@pytest.mark.skipif(shutil.which("make") is None, reason="make is not installed")
@pytest.mark.parametrize(
    ("target", "command"),
    [("worker", "manage.py worker"), ("listen", "manage.py listen_events"),
     ("shell", "manage.py shell")],
)  # fmt: skip
def test_make_targets_run_the_everyday_commands(target: str, command: str) -> None:
    """``make -n`` prints what the target would run (the venv's install too, when stale)."""
    result = subprocess.run(
        ["make", "--no-print-directory", "-n", target],
        cwd=BASE_DIR,
        capture_output=True,
        text=True,
        check=True,
    )
    last = result.stdout.strip().splitlines()[-1]
    assert last.startswith("DJANGO_DEBUG=1 "), result.stdout
    assert last.endswith(command), result.stdout
