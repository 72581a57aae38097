"""The hot path at the floor: the app's cached ``GET /api/users/{id}/`` (anonymous and signed
in) beside the floors it stands on, served by the same servers in one run, and FastAPI +
redis.asyncio doing the same work (bench/hot_fastapi.py).

- Floors (bench/hot_urls.py, through the project's middleware): a plain Django view, a DRF
  ``APIView`` returning a constant, a DRF ``APIView`` doing one Redis ``GET`` + ``json.loads``.
- The app: the anonymous and the signed-in cached detail of one user (a session made by
  ``POST /api/auth/login/``; the signed-in viewer reads another user, as the public does).
  ``THROTTLE_RATES`` is set to 100000000/min for every scope: every check runs, none
  refuses (all the anonymous requests come from 127.0.0.1, one window).
- Servers: gunicorn sync ``-w 2``, gunicorn gthread ``-w 2 --threads 4``, uvicorn
  ``--workers 2`` and ``--workers 1`` (``project.asgi:application``); FastAPI under uvicorn
  ``--workers 2`` and ``1``; all running at once, the same environment (DEBUG off, no
  Server-Timing). PostgreSQL with persistent connections when one listens on
  127.0.0.1:5432, else SQLite.
- Load: wrk on loopback, 2 threads, ``--connections`` (8) keep-alive connections (gunicorn's
  sync worker closes each one after its response: that is how it serves), ``--seconds`` per
  (server, endpoint), every cell once per round, ``--rounds`` rounds, the order reversed
  every other round; each figure is the median over the rounds.
- Measures per cell: req/s and wrk's p50/p99; worker CPU µs per request (utime + stime of the
  server's worker processes, /proc, over the requests wrk counted); Redis round trips per
  request (the bench Redis's ``total_reads_processed``; ``total_commands_processed`` beside
  it) and the Redis server's CPU per request.

    python bench/hot_path.py [--seconds 5] [--rounds 3] [--connections 8]
    python bench/hot_path.py --profile 2000     (in process: serves nothing)

``--profile N``: N requests per path through Django's test client (the whole middleware
stack, WSGI-style), their CPU per request, then under cProfile the top 25 by cumulative
time and the top 15 by own time; last, the CPU per request of the same through Django's
AsyncClient (the ASGI handler, its thread hand-offs included).

Writes bench/out/hot_path.json; bench/report.py makes the "Hot path" section from it.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import statistics
import sys
import time
import urllib.request
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import (
    ROOT,
    children,
    command_line,
    configure,
    cpu_seconds,
    postgres_listening,
    served,
    wrk,
)
from bench.hot_record import FLOOR_KEY, RECORD

OUT = ROOT / "bench" / "out"
PASSWORD = "correct-Horse-battery-9"
VIEWER = "hotviewer"
RATE = "100000000/min"
THROTTLE_RATES = ",".join(
    f"{scope}={RATE}" for scope in ("anon", "user", "login", "login_account", "register")
)
FLOOR = ("gunicorn_sync", "drf_one_get")  # what every ratio is to
# The periodic writes that ride on requests (each process's metrics every 2 s, cache counters
# every 30 s, a session's last-seen every 60 s) add a few hundredths of a round trip per
# request at these rates: a round-trip target is met up to this much above it.
TRIPS_SLACK = 0.05


@dataclass(frozen=True)
class Endpoint:
    name: str
    path: str
    label: str
    signed_in: bool = False
    cached: bool = False  # X-Cache: HIT checked before each measured window


@dataclass
class Server:
    name: str
    port: int
    command: list[str]
    endpoints: list[Endpoint]
    workers: int
    env: dict[str, str] = field(default_factory=dict)
    django: bool = True
    base: str = ""
    pid: int = 0


@dataclass(frozen=True)
class Cell:
    server: Server
    endpoint: Endpoint

    @property
    def key(self) -> str:
        return f"{self.server.name}/{self.endpoint.name}"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=5, help="per cell and round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", type=int, default=8)
    parser.add_argument("--warmup", type=int, default=1, help="seconds of wrk per cell first")
    parser.add_argument("--servers", default="", help="comma list (default: all of them)")
    parser.add_argument(
        "--profile",
        type=int,
        default=0,
        metavar="N",
        help="instead: N requests per endpoint through Django's test client under cProfile",
    )
    args = parser.parse_args()
    db = "postgres" if postgres_listening() else "sqlite"
    configure(db)
    os.environ["DJANGO_SETTINGS_MODULE"] = "bench.hot_settings"
    os.environ["THROTTLE_RATES"] = THROTTLE_RATES
    os.environ["DJANGO_DEBUG"] = "0"
    if args.profile:
        os.environ["SERVER_TIMING"] = "0"  # configure() turns it on: the production stack
    elif not shutil.which("wrk"):
        sys.exit("wrk is not installed (make bench installs it with apt-get)")
    import django

    django.setup()
    target, viewer = _users()
    from project.redis.client import get_client

    get_client().set(FLOOR_KEY, json.dumps(RECORD))
    if args.profile:
        profile(args.profile, target.pk, viewer)
        return
    report = load(args, db, target.pk)
    OUT.mkdir(parents=True, exist_ok=True)
    (OUT / "hot_path.json").write_text(json.dumps(report, indent=2))
    print_report(report)


def _users() -> tuple[Any, Any]:
    """1,000 users (cached records of ~300 bytes, as the floor's), the one read, and the
    viewer."""
    from django.core.management import call_command

    from users.models import User

    call_command("migrate", verbosity=0)
    User.objects.all().delete()
    name = (
        "A User With A Reasonably Long Full Name, For A Cached Record Of About 300 Bytes, "
        "As Long As The One The Floors Render"
    )
    User.objects.bulk_create(
        [
            User(username=f"hot{i}", email=f"hot{i}@example.com", full_name=name, password="!")
            for i in range(1000)
        ]
    )
    target = User.objects.order_by("pk")[500]
    viewer = User.objects.create_user(VIEWER, f"{VIEWER}@example.com", PASSWORD)
    return target, viewer


# --- The servers and the load ----------------------------------------------------------


def servers(target_id: int, wanted: str) -> list[Server]:
    gunicorn = str(Path(sys.executable).with_name("gunicorn"))
    uvicorn = [sys.executable, "-m", "uvicorn", "--host", "127.0.0.1"]
    quiet = ["--timeout-graceful-shutdown", "3", "--log-level", "warning", "--no-access-log"]
    detail = f"/api/users/{target_id}/"
    app = [
        Endpoint("django_plain", "/bench/hot/django/", "floor: plain Django view, constant"),
        Endpoint("drf_constant", "/bench/hot/drf/", "floor: DRF APIView, constant"),
        Endpoint("drf_one_get", "/bench/hot/drf-get/", "floor: DRF APIView + one GET"),
        Endpoint("detail_anonymous", detail, "app: cached detail, anonymous", cached=True),
        Endpoint(
            "detail_signed_in",
            detail,
            "app: cached detail, signed in",
            signed_in=True,
            cached=True,
        ),
    ]
    lean = [
        Endpoint("fastapi_constant", "/const/", "FastAPI: constant"),
        Endpoint(
            "fastapi_same_work",
            f"/users/{target_id}/",
            "FastAPI: the same work, one pipeline",
            cached=True,
        ),
        Endpoint(
            "fastapi_same_work_3_awaits",
            f"/separate/users/{target_id}/",
            "FastAPI: the same work, 3 awaits",
            cached=True,
        ),
    ]
    limit, window = _anon_rate()
    fastapi_env = {
        "HOT_REDIS_URL": _redis_url(),
        "HOT_LIMIT": str(limit),
        "HOT_WINDOW_S": str(window),
    }

    def gunicorn_command(port: int, *extra: str) -> list[str]:
        return [
            gunicorn, "project.wsgi", "--workers", "2", "--bind", f"127.0.0.1:{port}",
            "--log-level", "error", *extra,
        ]  # fmt: skip

    def uvicorn_command(module: str, port: int, workers: int) -> list[str]:
        return [*uvicorn, module, "--port", str(port), "--workers", str(workers), *quiet]

    every = [
        Server("gunicorn_sync", 8781, gunicorn_command(8781), app, 2),
        Server(
            "gunicorn_gthread",
            8782,
            gunicorn_command(8782, "--worker-class", "gthread", "--threads", "4"),
            app,
            2,
        ),
        Server("uvicorn", 8783, uvicorn_command("project.asgi:application", 8783, 2), app, 2),
        Server("uvicorn_1", 8784, uvicorn_command("project.asgi:application", 8784, 1), app, 1),
        Server(
            "fastapi_uvicorn",
            8785,
            uvicorn_command("bench.hot_fastapi:app", 8785, 2),
            lean,
            2,
            fastapi_env,
            django=False,
        ),
        Server(
            "fastapi_uvicorn_1",
            8786,
            uvicorn_command("bench.hot_fastapi:app", 8786, 1),
            lean,
            1,
            fastapi_env,
            django=False,
        ),
    ]
    if not wanted:
        return every
    names = wanted.split(",")
    unknown = set(names) - {s.name for s in every}
    if unknown:
        sys.exit(f"unknown servers {sorted(unknown)}; known: {[s.name for s in every]}")
    return [s for s in every if s.name in names]


def _anon_rate() -> tuple[int, int]:
    from django.conf import settings

    from ratelimit.rates import parse_rate

    rate = parse_rate(settings.THROTTLE_RATES["anon"])
    return rate.limit, rate.window


def _redis_url() -> str:
    from django.conf import settings

    return str(settings.REDIS_URL)


def load(args: argparse.Namespace, db: str, target_id: int) -> dict[str, Any]:
    chosen = servers(target_id, args.servers)
    checks: list[str] = []
    report: dict[str, Any] = {
        "database": db,
        "seconds": args.seconds,
        "rounds": args.rounds,
        "connections": args.connections,
        "wrk_threads": 2,
        "throttle_rates": THROTTLE_RATES,
        "target_user": target_id,
        "load_average_before": _loadavg(),
        "floor": "/".join(FLOOR),
        "trips_slack": TRIPS_SLACK,
        "packages": _packages(),
        "servers": {},
    }
    with ExitStack() as stack:
        for server in chosen:
            env = {"DJANGO_DEBUG": "0", **server.env}
            server.base, process = stack.enter_context(
                served(server.name, server.command, server.port, env)
            )
            server.pid = process.pid
        django_servers = [s for s in chosen if s.django]
        session = _sign_in(django_servers[0].base) if django_servers else ""
        report["bodies"] = _store_comparator_record(chosen, target_id, checks)
        cells = [Cell(server, endpoint) for server in chosen for endpoint in server.endpoints]
        for cell in cells:  # warm: both workers, connections, code paths, the cache
            _check_hit(cell, session)
            cookie = session if cell.endpoint.signed_in else ""
            url = cell.server.base + cell.endpoint.path
            wrk(url, args.warmup, cookie=cookie, connections=args.connections)
        for server in chosen:
            pids = _worker_pids(server)
            report["servers"][server.name] = {
                "command": " ".join(Path(server.command[0]).name if i == 0 else part
                                    for i, part in enumerate(server.command)),
                "workers": len(pids),
            }  # fmt: skip
            if len(pids) != server.workers:
                checks.append(f"{server.name}: {len(pids)} worker processes, not {server.workers}")
        rounds: dict[str, list[dict[str, Any]]] = {cell.key: [] for cell in cells}
        for n in range(args.rounds):
            order = cells if n % 2 == 0 else cells[::-1]
            print(f"-- round {n + 1}/{args.rounds}, load average {_loadavg()}", flush=True)
            for cell in order:
                row = measure(cell, session, args, checks)
                rounds[cell.key].append(row)
                print(
                    f"   {cell.key:45} {row['cpu_us']:7.0f} µs CPU/req "
                    f"{row['redis_reads']:5.2f} trips {row['requests_per_second']:8.0f} req/s",
                    flush=True,
                )
    report["cells"] = [
        {
            "server": cell.server.name,
            "endpoint": cell.endpoint.name,
            "label": cell.endpoint.label,
            "path": cell.endpoint.path,
            **_median(rounds[cell.key]),
            "per_round": rounds[cell.key],
        }
        for cell in cells
    ]
    _ratios(report)
    checks += _sanity(report)
    report["targets"] = targets(report)
    report["checks"] = checks
    report["load_average_after"] = _loadavg()
    return report


def measure(cell: Cell, session: str, args: argparse.Namespace, checks: list[str]) -> dict:
    from project.redis.client import get_client

    _check_hit(cell, session, checks)
    pids = _worker_pids(cell.server)
    client = get_client()
    before, cpu_before = client.info("stats", "cpu"), cpu_seconds(pids)
    result = wrk(
        cell.server.base + cell.endpoint.path, args.seconds,
        cookie=session if cell.endpoint.signed_in else "", connections=args.connections,
    )  # fmt: skip
    cpu_after, after = cpu_seconds(pids), client.info("stats", "cpu")
    if _worker_pids(cell.server) != pids:
        checks.append(f"{cell.key}: the worker processes changed during the window")
    if result["non_2xx"]:
        checks.append(f"{cell.key}: {result['non_2xx']} non-2xx responses")
    n = result["requests"]

    def delta(name: str) -> float:  # less this process's one INFO inside the window
        return (after[name] - before[name] - (1 if name.startswith("total_") else 0)) / n

    redis_cpu = sum(after[k] - before[k] for k in ("used_cpu_sys", "used_cpu_user"))
    return {
        "cpu_us": round((cpu_after - cpu_before) / n * 1e6, 1),
        "redis_reads": round(delta("total_reads_processed"), 3),
        "redis_commands": round(delta("total_commands_processed"), 3),
        "redis_cpu_us": round(redis_cpu / n * 1e6, 1),
        **result,
    }


def _worker_pids(server: Server) -> list[int]:
    """gunicorn: the arbiter's children; uvicorn --workers N: the supervisor's spawned
    children (not multiprocessing's resource tracker); uvicorn --workers 1: itself."""
    found = children(server.pid)
    if "uvicorn" in server.command:
        spawned = [pid for pid in found if "spawn_main" in command_line(pid)]
        return spawned or [server.pid]
    return found


def _check_hit(cell: Cell, session: str, checks: list[str] | None = None) -> None:
    """A cached endpoint answers X-Cache: HIT (the first read after a start or an expiry
    fills the entry: a few tries)."""
    if not cell.endpoint.cached:
        return
    request = urllib.request.Request(cell.server.base + cell.endpoint.path)
    if cell.endpoint.signed_in:
        request.add_header("Cookie", session)
    status = "?"
    for _ in range(5):
        with urllib.request.urlopen(request, timeout=5) as response:
            status = response.headers.get("X-Cache", "none")
            body = json.loads(response.read())
        if status == "HIT":
            if "email" in body:
                raise RuntimeError(f"{cell.key}: the public read shows the email")
            return
    message = f"{cell.key}: X-Cache {status}, not HIT"
    if checks is None:
        raise RuntimeError(message)
    checks.append(message)


def _sign_in(base: str) -> str:
    """The viewer's session cookie, by ``POST /api/auth/login/`` with a CSRF token."""
    with urllib.request.urlopen(base + "/api/auth/csrf/") as response:
        csrf = json.loads(response.read())["csrfToken"]
        cookie = response.headers["Set-Cookie"].split(";")[0]
    request = urllib.request.Request(
        base + "/api/auth/login/",
        data=json.dumps({"username": VIEWER, "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json", "Cookie": cookie, "X-CSRFToken": csrf},
        method="POST",
    )
    with urllib.request.urlopen(request) as response:
        return next(
            value.split(";")[0]
            for name, value in response.headers.items()
            if name == "Set-Cookie" and value.startswith("sessionid=")
        )


def _store_comparator_record(
    chosen: list[Server], target_id: int, checks: list[str]
) -> dict[str, int]:
    """The comparator reads what the app caches for the user: its public answer (from the
    first Django server) with the email put back, at FastAPI's key. Checks that FastAPI
    answers the same fields; the body sizes, in bytes."""
    from project.redis.client import get_client
    from users.models import User

    def get(url: str) -> bytes:
        with urllib.request.urlopen(url) as response:
            return response.read()

    sizes = {}
    django_server = next((s for s in chosen if s.django), None)
    if django_server is not None:
        body = get(f"{django_server.base}/api/users/{target_id}/")
        sizes["app_public_answer"] = len(body)
        record = json.loads(body)
    else:
        record = {"id": target_id, "username": "?", "full_name": "", "profile_views": 0}
    public = set(record)
    record["email"] = User.objects.get(pk=target_id).email
    stored = json.dumps(record)
    sizes["fastapi_stored_record"] = len(stored)
    get_client().set(f"bench:hot:fastapi:user:{target_id}", stored)
    for server in chosen:
        if not server.django:
            body = get(f"{server.base}/users/{target_id}/")
            sizes["fastapi_answer"] = len(body)
            if set(json.loads(body)) != public:
                checks.append(f"{server.name}: answers other fields than the app")
    return sizes


def _packages() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    found = {}
    for name in (
        "Django", "djangorestframework", "gunicorn", "uvicorn", "uvloop", "httptools",
        "fastapi", "starlette", "redis", "hiredis",
    ):  # fmt: skip
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = "not installed"
    return found


def _loadavg() -> list[float]:
    return [round(x, 2) for x in os.getloadavg()]


# --- Figures ---------------------------------------------------------------------------

MEDIANS = (
    "cpu_us", "redis_reads", "redis_commands", "redis_cpu_us", "requests_per_second",
    "p50_us", "p99_us",
)  # fmt: skip


def _median(rows: list[dict[str, Any]]) -> dict[str, Any]:
    found: dict[str, Any] = {}
    for name in MEDIANS:
        values = [row[name] for row in rows if row[name] is not None]
        found[name] = round(statistics.median(values), 3) if values else None
    found["requests"] = sum(row["requests"] for row in rows)
    found["non_2xx"] = sum(row["non_2xx"] for row in rows)
    found["socket_errors"] = sorted({row["socket_errors"] for row in rows if row["socket_errors"]})
    return found


def _cell(report: dict[str, Any], server: str, endpoint: str) -> dict[str, Any] | None:
    return next(
        (c for c in report["cells"] if c["server"] == server and c["endpoint"] == endpoint),
        None,
    )


def _ratios(report: dict[str, Any]) -> None:
    floor = _cell(report, *FLOOR)
    for cell in report["cells"]:
        own = _cell(report, cell["server"], "drf_one_get")
        cell["x_floor"] = round(cell["cpu_us"] / floor["cpu_us"], 2) if floor else None
        cell["x_own_floor"] = round(cell["cpu_us"] / own["cpu_us"], 2) if own else None


def _sanity(report: dict[str, Any]) -> list[str]:
    """The instruments read right: one GET is one read, a constant none."""
    found = []
    for cell in report["cells"]:
        reads, where = cell["redis_reads"], f"{cell['server']}/{cell['endpoint']}"
        if cell["endpoint"] == "drf_one_get" and not 0.95 <= reads <= 1 + TRIPS_SLACK:
            found.append(f"{where}: {reads} Redis reads per request, expected 1")
        if cell["endpoint"] in ("django_plain", "drf_constant", "fastapi_constant") and (
            reads > TRIPS_SLACK
        ):
            found.append(f"{where}: {reads} Redis reads per request, expected 0")
        if cell["endpoint"] == "fastapi_same_work" and not 0.95 <= reads <= 1.05:
            found.append(f"{where}: {reads} Redis reads per request, expected 1 (one pipeline)")
    return found


def targets(report: dict[str, Any]) -> list[dict[str, Any]]:
    """The issue's targets, each measured in this run: name, limit, ratio, met."""

    def cpu(server: str, endpoint: str) -> float | None:
        cell = _cell(report, server, endpoint)
        return cell["cpu_us"] if cell else None

    def ratio(name: str, limit: float, a: float | None, b: float | None, how: str) -> dict:
        if a is None or b is None:
            return {"target": name, "limit": limit, "ratio": None, "met": None, "measured": how}
        value = round(a / b, 2)
        return {
            "target": name,
            "limit": limit,
            "ratio": value,
            "met": value <= limit,
            "measured": f"{value:.2f}× ({a:,.0f} vs {b:,.0f} µs {how})",
        }

    def trips(name: str, endpoint: str, limit: int) -> dict:
        cell = _cell(report, "gunicorn_sync", endpoint)
        if cell is None:
            return {"target": name, "limit": limit, "ratio": None, "met": None, "measured": "-"}
        reads = cell["redis_reads"]
        return {
            "target": name,
            "limit": limit,
            "ratio": reads,
            "met": reads <= limit + TRIPS_SLACK,
            "measured": f"{reads:.2f} reads/req ({cell['redis_commands']:.2f} commands/req), "
            "gunicorn sync",
        }

    floor = cpu(*FLOOR)
    anon = cpu("gunicorn_sync", "detail_anonymous")
    lean = cpu("fastapi_uvicorn", "fastapi_same_work")
    worker_cpu = "worker CPU/req"
    return [
        ratio(
            "anonymous cached detail ≤ 1.15× the DRF one-GET floor (worker CPU, gunicorn sync)",
            1.15, anon, floor, worker_cpu,
        ),
        ratio(
            "signed-in cached detail ≤ 1.4× the DRF one-GET floor (worker CPU, gunicorn sync)",
            1.4, cpu("gunicorn_sync", "detail_signed_in"), floor, worker_cpu,
        ),
        trips("anonymous cached detail: 1 Redis round trip", "detail_anonymous", 1),
        trips("signed-in cached detail: 2 Redis round trips", "detail_signed_in", 2),
        ratio(
            "uvicorn: anonymous cached detail ≤ 1.0× its gunicorn-sync CPU",
            1.0, cpu("uvicorn", "detail_anonymous"), anon, worker_cpu,
        ),
        ratio(
            "anonymous cached detail ≤ 1.5× FastAPI doing the same work (both uvicorn "
            "--workers 2)",
            1.5, cpu("uvicorn", "detail_anonymous"), lean, worker_cpu,
        ),
        ratio(
            "anonymous cached detail (gunicorn sync) ≤ 1.5× FastAPI doing the same work "
            "(uvicorn --workers 2)",
            1.5, anon, lean, worker_cpu,
        ),
    ]  # fmt: skip


def print_report(report: dict[str, Any]) -> None:
    print(
        f"\nHot path: {report['database']}, wrk -t2 -c{report['connections']}, "
        f"{report['seconds']} s per cell × {report['rounds']} rounds (medians), throttles "
        f"{RATE}; load average before {report['load_average_before']}, after "
        f"{report['load_average_after']}"
    )
    head = (
        f"{'server':18} {'endpoint':27} {'CPU µs/req':>10} {'× floor':>7} {'× own':>6} "
        f"{'reads':>6} {'cmds':>6} {'Redis µs':>8} {'req/s':>7} {'p50 µs':>8} {'p99 µs':>8}"
    )
    print(head)
    print("-" * len(head))
    for c in report["cells"]:
        print(
            f"{c['server']:18} {c['endpoint']:27} {c['cpu_us']:10.0f} "
            f"{_fmt(c['x_floor']):>7} {_fmt(c['x_own_floor']):>6} {c['redis_reads']:6.2f} "
            f"{c['redis_commands']:6.2f} {c['redis_cpu_us']:8.0f} "
            f"{c['requests_per_second']:7.0f} {_fmt(c['p50_us'], 0):>8} {_fmt(c['p99_us'], 0):>8}"
        )
    print(
        f"\n× floor: worker CPU over {report['floor']}'s; × own: over the same server's DRF one-GET"
    )
    print("\nTargets:")
    for t in report["targets"]:
        met = {True: "met", False: "MISSED", None: "n/a"}[t["met"]]
        print(f"  {met:6} {t['target']}: {t['measured']}")
    for line in report["checks"]:
        print(f"  check: {line}")


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


# --- In process, under cProfile ----------------------------------------------------------


def profile(n: int, target_id: int, viewer: Any) -> None:
    """N requests per endpoint through Django's test client (the whole middleware stack),
    timed without the profiler, then again under cProfile: the top 25 by cumulative time
    and the top 15 by own time."""
    import cProfile
    import pstats

    from django.test import Client

    anonymous, signed_in = Client(), Client()
    signed_in.force_login(viewer)
    detail = f"/api/users/{target_id}/"
    cases = {
        "drf_one_get": (anonymous, "/bench/hot/drf-get/"),
        "detail_anonymous": (anonymous, detail),
        "detail_signed_in": (signed_in, detail),
    }
    for name, (client, path) in cases.items():
        for _ in range(min(200, n)):
            response = client.get(path)
        if name != "drf_one_get" and response.headers.get("X-Cache") != "HIT":
            raise RuntimeError(f"{name}: X-Cache {response.headers.get('X-Cache')}")
        begin = time.process_time()
        for _ in range(n):
            client.get(path)
        plain = (time.process_time() - begin) / n * 1e6
        profiler = cProfile.Profile()
        begin = time.process_time()
        profiler.enable()
        for _ in range(n):
            client.get(path)
        profiler.disable()
        profiled = (time.process_time() - begin) / n * 1e6
        print(
            f"\n=== {name} ({path}): {plain:.0f} µs CPU per request in process "
            f"(test client), {profiled:.0f} µs under cProfile; {n} requests"
        )
        stats = pstats.Stats(profiler, stream=sys.stdout)
        stats.sort_stats("cumulative").print_stats(25)
        stats.sort_stats("tottime").print_stats(15)
    print("\n=== the same requests through Django's AsyncClient (the ASGI handler, in process):")
    for name, (client, path) in cases.items():
        print(f"{name}: {asyncio.run(_asgi_cpu(client, path, n)):.0f} µs CPU per request")


async def _asgi_cpu(sync_client: Any, path: str, n: int) -> float:
    """CPU per request of ``n`` ASGI requests, the threads Django hands sync code to
    included (process time), with the sync client's cookies (the session)."""
    from django.test import AsyncClient

    client = AsyncClient()
    client.cookies = sync_client.cookies
    for _ in range(min(200, n)):
        await client.get(path)
    begin = time.process_time()
    for _ in range(n):
        await client.get(path)
    return (time.process_time() - begin) / n * 1e6


if __name__ == "__main__":
    main()
