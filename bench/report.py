"""``make bench``: run every scenario, then write bench/REPORT.md, bench/results.json and
the charts in bench/charts/. Every figure in the report comes from this run.

    python bench/report.py [--http-seconds 20]
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import subprocess
import sys
import time
from datetime import UTC, datetime
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench.common import postgres_listening  # noqa: E402  (needs the path above)

OUT = ROOT / "bench" / "out"
CHARTS = ROOT / "bench" / "charts"


def run(name: str, *args: str, step: str = "") -> float:
    """One scenario, said as it starts (``step``: "3/12") and as it ends, with its time."""
    print(f"== {step + ' ' if step else ''}{name} {' '.join(args)}".rstrip(), flush=True)
    begin = time.monotonic()
    subprocess.run([sys.executable, f"bench/{name}.py", *args], cwd=ROOT, check=True)
    took = round(time.monotonic() - begin, 1)
    print(f"== {step + ' ' if step else ''}{name}: done in {took} s", flush=True)
    return took


def environment() -> dict:
    server = shutil.which("redis-server") or "redis-server"
    redis_version = subprocess.run([server, "--version"], capture_output=True, text=True).stdout
    proc = Path("/proc/meminfo")
    memory = proc.read_text().splitlines()[0].split(":")[-1].strip() if proc.exists() else "?"
    return {
        "when": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.machine()}, {os.cpu_count()} cores, {memory} memory",
        "os": platform.platform(),
        "python": platform.python_version(),
        "redis_server": redis_version.strip(),
        "packages": {
            name: version(name)
            for name in (
                "Django",
                "djangorestframework",
                "django-redis",
                "redis",
                "hiredis",
                "psycopg",
                "gunicorn",
                "limits",
                "django-tasks",
                "django-tasks-rq",
                "django-rq",
                "rq",
            )
        },
        "command": "make bench",
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--http-seconds", type=int, default=20)
    parser.add_argument("--hot-seconds", type=int, default=5, help="hot path: per cell and round")
    parser.add_argument(
        "--from-results",
        action="store_true",
        help="rewrite REPORT.md and the charts from bench/results.json, running nothing",
    )
    args = parser.parse_args()
    if args.from_results:
        results = json.loads((ROOT / "bench" / "results.json").read_text())
        charts(results)
        (ROOT / "bench" / "REPORT.md").write_text(report(results))
        return
    OUT.mkdir(parents=True, exist_ok=True)
    for stale in OUT.glob("*.json"):
        stale.unlink()
    # Sample sizes keep the whole run under 10 minutes on 2 cores (the HTTP part is 5.5),
    # the hot path aside (about 7 more: 26 cells, each 1 s warm-up + 3 rounds of 5 s).
    scenarios: list[tuple[str, str, tuple[str, ...]]] = [
        ("floor", "floor", ()),
        ("cache_reads_sqlite", "cache_reads", ("--db", "sqlite", "--n", "1500")),
    ]
    if postgres_listening():
        scenarios.append(
            ("cache_reads_postgres", "cache_reads", ("--db", "postgres", "--n", "1500"))
        )
    scenarios += [
        ("sessions", "sessions", ()),
        ("throttle", "throttle", ()),
        ("events", "events", ("--latency-n", "1000")),
        ("structures", "structures", ()),
        ("growth", "growth", ()),
        ("tasks", "tasks", ()),
        ("notifications", "notifications", ()),
    ]
    if shutil.which("redis-cli"):
        scenarios.append(("topologies", "topologies", ()))
    if shutil.which("wrk"):
        scenarios.append(("http", "http_load", ("--seconds", str(args.http_seconds))))
        scenarios.append(("hot_path", "hot_path", ("--seconds", str(args.hot_seconds))))
    durations = {
        key: run(name, *options, step=f"{n}/{len(scenarios)}")
        for n, (key, name, options) in enumerate(scenarios, 1)
    }
    results = {path.stem: json.loads(path.read_text()) for path in sorted(OUT.glob("*.json"))}
    results["environment"] = environment()
    results["durations_s"] = durations
    (ROOT / "bench" / "results.json").write_text(json.dumps(results, indent=2))
    charts(results)
    (ROOT / "bench" / "REPORT.md").write_text(report(results))
    print("wrote bench/REPORT.md, bench/results.json, bench/charts/*.png")


def charts(results: dict) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    CHARTS.mkdir(exist_ok=True)
    throttle = results["throttle"]
    names = list(throttle)
    fig, ax = plt.subplots(figsize=(7, 3.5))
    ax.barh(names, [throttle[n]["median_us"] for n in names], color="#c0392b")
    ax.set_xlabel("median µs per check (lower is better)")
    ax.set_title("Throttle check, one Redis, same run")
    fig.tight_layout()
    fig.savefig(CHARTS / "throttle.png", dpi=110)
    plt.close(fig)
    if "http" in results:
        runs = results["http"]["runs"]
        endpoints = sorted({r["endpoint"] for r in runs if r["endpoint"] != "login"})
        fig, ax = plt.subplots(figsize=(8, 3.8))
        width = 0.2
        for i, (workers, cache) in enumerate([(2, "off"), (2, "on"), (4, "off"), (4, "on")]):
            values = [
                next(
                    r["requests_per_second"]
                    for r in runs
                    if r["endpoint"] == e and r["workers"] == workers and r["cache"] == cache
                )
                for e in endpoints
            ]
            ax.bar(
                [x + i * width for x in range(len(endpoints))],
                values,
                width,
                label=f"{workers} workers, cache {cache}",
            )
        ax.set_xticks([x + 1.5 * width for x in range(len(endpoints))], endpoints)
        ax.set_ylabel("requests/s")
        ax.set_title(f"gunicorn on loopback, {results['http']['database']}")
        ax.legend(fontsize=8, loc="upper center", bbox_to_anchor=(0.5, -0.1), ncol=4)
        fig.tight_layout()
        fig.savefig(CHARTS / "http.png", dpi=110)
        plt.close(fig)


def _row(*cells: object) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def report(r: dict) -> str:
    env = r["environment"]
    lines = [
        "# Performance report",
        "",
        f"Produced by `{env['command']}` on {env['when']}: {env['machine']}; {env['os']}; "
        f"Python {env['python']}; {env['redis_server']}.",
        "Packages: " + ", ".join(f"{k} {v}" for k, v in env["packages"].items()) + ".",
        "Every figure below is from that run (`bench/results.json`); ratios compare with a "
        "baseline measured in the same run.",
        "",
    ]
    lines += _targets(r)
    lines += [
        "",
        "## The floor (raw redis-py on the bench's Redis)",
        "",
        _row("command", "median µs", "p99 µs"),
        _row("---", "---", "---"),
    ]
    for name, row in r["floor"].items():
        lines.append(_row(name, f"{row['median_us']:.1f}", f"{row['p99_us']:.1f}"))
    lines += [
        "",
        "## Throttle (limit 100/min)",
        "",
        "![throttle](charts/throttle.png)",
        "",
        _row(
            "implementation",
            "admitted of 1000 at 32 threads",
            "admitted of 1000, 4 processes × 8 threads",
            "round trips",
            "median µs",
            "p99 µs",
            "× ours",
            "bytes at 100",
            "bytes at 10,000",
        ),
        _row(*["---"] * 9),
    ]
    for name, row in r["throttle"].items():
        lines.append(
            _row(
                name,
                row["admitted_of_1000_at_32_threads"],
                row["admitted_of_1000_4_processes_x_8_threads"],
                row["round_trips_per_check"],
                f"{row['median_us']:.1f}",
                f"{row['p99_us']:.1f}",
                row["median_vs_ours"],
                row["memory_bytes_at_100"],
                row["memory_bytes_at_10000"],
            )
        )
    for db in ("sqlite", "postgres"):
        data = r.get(f"cache_reads-{db}")
        if not data:
            continue
        lines += [
            "",
            f"## Cached reads, in process, {db}",
            "",
            _row(
                "scenario",
                "median µs",
                "p99 µs",
                "× raw GET",
                "Redis round trips",
                "Redis commands (server side)",
                "SQL",
                "× faster than uncached",
            ),
            _row(*["---"] * 8),
        ]
        for name, row in data.items():
            lines.append(
                _row(
                    name,
                    f"{row['median_us']:.0f}",
                    f"{row['p99_us']:.0f}",
                    row["x_raw_get"],
                    row["redis_round_trips"],
                    row.get("redis_commands", ""),
                    row["sql"],
                    row.get("speedup_vs_uncached", ""),
                )
            )
    s = r["sessions"]
    lines += [
        "",
        "## Sessions (this engine vs Django's cache backend on django-redis)",
        "",
        _row("operation", "ours µs", "ours round trips", "django µs", "django round trips"),
        _row(*["---"] * 5),
    ]
    for op in ("load", "changed_save", "unchanged_save"):
        ours, theirs = s[f"ours_{op}"], s[f"django_cache_{op}"]
        lines.append(
            _row(
                op,
                f"{ours['median_us']:.0f}",
                ours["redis_round_trips"],
                f"{theirs['median_us']:.0f}",
                theirs["redis_round_trips"],
            )
        )
    e = r["events"]
    lines += [
        "",
        "## Events",
        "",
        _row("", "latency median µs", "p99 µs", "events/s", "lost of 20,000 by a slow consumer"),
        _row(*["---"] * 5),
    ]
    for kind, row in e.items():
        lines.append(
            _row(
                kind,
                f"{row['latency']['median_us']:.0f}",
                f"{row['latency']['p99_us']:.0f}",
                row["events_per_second"],
                row["slow_consumer_lost"],
            )
        )
    if "http" in r:
        h = r["http"]
        lines += [
            "",
            f"## HTTP end to end ({h['database']}, wrk 2 threads × 16 connections, "
            f"{h['seconds']} s per endpoint)",
            "",
            "![http](charts/http.png)",
            "",
            _row(
                "workers", "endpoint", "cache on req/s", "cache off req/s", "× ", "p50 on", "p99 on"
            ),
            _row(*["---"] * 7),
        ]
        for workers in (2, 4):
            for endpoint in ("detail_anonymous", "detail_signed_in", "list", "login"):
                on = _http(h, workers, "on", endpoint)
                off = _http(h, workers, "off", endpoint)
                lines.append(
                    _row(
                        workers,
                        endpoint,
                        on["requests_per_second"],
                        off["requests_per_second"],
                        f"{on['requests_per_second'] / off['requests_per_second']:.2f}",
                        on["p50"],
                        on["p99"],
                    )
                )
    lines += _hot_path(r)
    lines += _tasks(r)
    lines += _notifications(r)
    g = r["growth"]
    lines += ["", "## Growth", ""]
    lines += [
        f"- throttle check with a full window of {k}: median {v['median_us']:.0f} µs"
        for k, v in g["throttle_full_window"].items()
    ]
    lines += [
        f"- cache hit with {k} cached users: median {v['median_us']:.0f} µs; Redis memory "
        f"{v['memory_per_10k_users']:,} bytes per 10,000 cached users"
        for k, v in g["cache_hit"].items()
    ]
    st = r["structures"]
    for n in (10_000, 100_000):
        board = st[f"leaderboard_{n}"]
        lines.append(
            f"- leaderboard with {n:,} users: top-10 median {board['top10']['median_us']:.0f} µs, "
            f"rank median {board['rank']['median_us']:.0f} µs"
        )
    wb = st["write_back"]
    lines += [
        f"- write-back: {wb['increments']:,} increments over {wb['users']:,} users flushed "
        f"in {wb['flush_ms']} ms with {wb['db_writes']} database writes; lock acquire + "
        f"release {st['lock_acquire_release']['redis_round_trips']} round trips, median "
        f"{st['lock_acquire_release']['median_us']:.0f} µs"
    ]
    if "topologies" in r:
        lines += [
            "",
            "## Cluster vs standalone (median µs)",
            "",
            _row("scenario", "standalone", "cluster", "×"),
            _row(*["---"] * 4),
        ]
        for name, row in r["topologies"].items():
            a, b = row["standalone"]["median_us"], row["cluster"]["median_us"]
            lines.append(_row(name, f"{a:.0f}", f"{b:.0f}", f"{b / a:.2f}"))
    lines += ["", f"Run time per scenario (s): {r['durations_s']}", ""]
    return "\n".join(lines)


def _table(head: tuple, rows: list[tuple]) -> list[str]:
    """A blank line, then a Markdown table: its head, the rule, a row a tuple."""
    return ["", _row(*head), _row(*["---"] * len(head)), *(_row(*cells) for cells in rows)]


def _pick(results: dict, *names: str) -> list[tuple[str, dict]]:
    return [(name, results[name]) for name in names]


def _hot_path(r: dict) -> list[str]:
    """The app's cached detail beside its floors and FastAPI doing the same work, one run."""
    if "hot_path" not in r:  # results from before bench/hot_path.py
        return []
    h = r["hot_path"]
    servers = h["servers"]
    packages = ", ".join(f"{k} {v}" for k, v in h.get("packages", {}).items())
    lines = [
        "",
        f"## Hot path ({h['database']}, wrk 2 threads × {h['connections']} connections, "
        f"{h['seconds']} s per cell, median of {h['rounds']} interleaved rounds)",
        "",
        "Every (server, path) below was loaded in the same run, round-robin, the order "
        "reversed every other round; all the servers ran at once with the same environment "
        f"(DEBUG off, no Server-Timing, throttles at {h['throttle_rates'].split(',')[0]} for "
        "every scope: every check runs, none refuses). Worker CPU is utime + stime of the "
        "server's worker processes over the requests wrk counted; Redis round trips are the "
        "bench Redis's `total_reads_processed` per request (its `total_commands_processed` "
        "beside them: a script's inner commands count there). × floor: over the DRF "
        f"one-GET floor's worker CPU under gunicorn sync (`{h['floor']}`); × own: over the "
        "same server's. A round-trip target is met up to "
        f"{h.get('trips_slack', 0.05)} above it (each process's periodic writes ride on "
        "requests). The signed-in viewer reads another user's detail. Load average "
        f"{h['load_average_before']} before, {h['load_average_after']} after.",
        "",
        "Servers: "
        + "; ".join(
            f"`{x['command']}` ({x['workers']} worker{'s' if x['workers'] != 1 else ''})"
            for x in servers.values()
        )
        + (f". Packages: {packages}." if packages else "."),
    ]
    lines += _table(
        (
            "path",
            "server",
            "worker CPU µs/req",
            "× floor",
            "× own",
            "Redis round trips",
            "Redis commands",
            "Redis CPU µs/req",
            "req/s",
            "p50 ms",
            "p99 ms",
        ),
        [
            (
                f"{c.get('label', c['endpoint'])} (`{c['path']}`)",
                c["server"],
                f"{c['cpu_us']:,.0f}",
                "" if c["x_floor"] is None else f"{c['x_floor']:.2f}",
                "" if c["x_own_floor"] is None else f"{c['x_own_floor']:.2f}",
                f"{c['redis_reads']:.2f}",
                f"{c['redis_commands']:.2f}",
                f"{c['redis_cpu_us']:.0f}",
                f"{c['requests_per_second']:,.0f}",
                "" if c["p50_us"] is None else f"{c['p50_us'] / 1000:.2f}",
                "" if c["p99_us"] is None else f"{c['p99_us'] / 1000:.2f}",
            )
            for c in h["cells"]
        ],
    )
    met = {True: "yes", False: "**no**", None: "n/a"}
    lines += _table(
        ("hot-path target (same run)", "limit", "met", "measured"),
        [(t["target"], f"≤ {t['limit']}", met[t["met"]], t["measured"]) for t in h["targets"]],
    )
    if h.get("checks"):
        lines += ["", "Checks: " + "; ".join(h["checks"]) + "."]
    return lines


def _tasks(r: dict) -> list[str]:
    if "tasks" not in r:  # results from before bench/tasks.py
        return []
    t = r["tasks"]
    q, w, lat, o = t["request"], t["throughput"], t["latency"], t["outage"]
    lines = ["", f"## Background jobs ({t['database']}, RQ through django-tasks-rq)"]
    lines += _table(
        ("request, in process (test client)", "median µs", "p99 µs", "SQL", "Redis commands"),
        [
            (name, f"{x['median_us']:.0f}", f"{x['p99_us']:.0f}", x["sql"], x["redis_commands"])
            for name, x in _pick(q, "plain", "enqueue", "direct_enqueue")
        ],
    )
    lines += [
        "",
        f"`enqueue_on_commit` adds {q['added_us']:.0f} µs to the request ({q['ratio']}× the "
        f"plain view); `task.enqueue()` after the commit, without the outbox, "
        f"{q['direct_added_us']:.0f} µs.",
    ]
    if "http" in t:  # results from before the HTTP part have none
        lines += _tasks_http(t["http"])
    lines += _table(
        (f"drain {w['jobs']} no-op jobs", "wall s", "empty queue s", "jobs/s", "past start-up"),
        [
            (name, x["drain_s"], x["empty_s"], x["jobs_per_s"], x["jobs_per_s_past_startup"])
            for name, x in _pick(w, "workers_1", "workers_2", "simple_worker_1")
        ],
    )
    lines += _table(
        ("enqueue to start (idle worker)", "p50 µs", "p99 µs", "× floor p50"),
        [
            (name, f"{x['p50_us']:.0f}", f"{x['p99_us']:.0f}", x.get("p50_vs_floor", 1.0))
            for name, x in _pick(lat, "floor_blpop", "rq_enqueue", "rq_enqueue_on_commit")
        ],
    )
    return [
        *lines,
        "",
        f"Outage: {o['jobs']} jobs committed while the queue's Redis was stopped for "
        f"{o['outage_s']} s (each such request {o['request_while_frozen_ms']} ms, "
        f"{o['request_while_frozen_vs_normal']}× a normal one); after Redis came back the "
        f"outbox was empty at {o['handed_off_s']} s and all {o['ran']} had started at "
        f"{o['all_started_s']} s.",
    ]


def _notifications(r: dict) -> list[str]:
    if "notifications" not in r:  # results from before bench/notifications.py
        return []
    n = r["notifications"]
    floor, single, burst, restart = n["floor"], n["single"], n["burst"], n["restart"]
    lines = [
        "",
        "## Live notifications",
        "",
        f"`GET /api/notifications/stream/` on one uvicorn worker, {n['users']} users; streams "
        f"opened {n['open_concurrency']} at a time by raw asyncio clients of the bench process.",
    ]
    lines += _table(
        (
            "idle streams",
            "server RSS KiB",
            "KiB per stream",
            "KiB per added stream",
            "server threads",
            "server's Redis connections",
        ),
        [
            (
                f"{x['streams']:,}",
                x["rss_kib"],
                x.get("kib_per_stream", "(baseline)"),
                x.get("kib_per_stream_added", ""),
                x.get("threads", "?"),
                x["server_redis_connections"],
            )
            for x in n["memory"]["rows"]
        ],
    )
    latency = [
        ("floor: redis.asyncio pub/sub, one at a time", floor["pubsub"]),
        ("floor: redis.asyncio XREAD BLOCK, one at a time", floor["xread_block"]),
        ("1 subscriber, one at a time", single),
        (f"floor: pub/sub burst of {burst['subscribers']:,}", floor["pubsub_burst"]),
        (f"burst: {burst['subscribers']:,} subscribers, one each", burst),
    ]
    lines += _table(
        ("append to the client's data line", "p50 ms", "p99 ms", "max ms", "samples", "per s"),
        [
            (
                name,
                f"{x['p50_ms']:.2f}",
                f"{x['p99_ms']:.2f}",
                f"{x['max_ms']:.2f}",
                x["n"],
                x.get("per_second", ""),
            )
            for name, x in latency
        ],
    )
    return [
        *lines,
        "",
        f"One subscriber: p50 {single['p50_ms'] / floor['pubsub']['p50_ms']:.1f}× the pub/sub "
        f"floor. Burst: p99 {burst['p99_ms'] / floor['pubsub_burst']['p99_ms']:.1f}× the bare "
        f"pub/sub burst's, {burst['per_second']:,} notifications/s delivered (appended at "
        f"{burst['appended_per_second']:,}/s); the server's Redis connections after it: "
        f"{burst['server_redis_connections_after']}; p99 per burst (ms): "
        f"{burst.get('p99_ms_per_burst', '?')}.",
        "",
        f"Redis restart (`SHUTDOWN SAVE`, down {restart['redis_down_s']} s) under "
        f"{restart['streams']} streams of {restart['users']} users, {restart['reconnected']} of "
        f"them reconnecting with `Last-Event-ID`: {restart['lost']} lost, "
        f"{restart['duplicated']} duplicated of {restart['expected_deliveries']} deliveries; "
        f"the first delivery {restart['first_delivery_after_restart_ms']} ms after Redis "
        f"answered again, all of them at {restart['all_delivered_after_restart_ms']} ms.",
        *_notifications_wsgi(n),
        *_notifications_channels(n),
    ]


def _notifications_wsgi(n: dict) -> list[str]:
    if "wsgi" not in n:  # run with --wsgi-streams 0
        return []
    w = n["wsgi"]
    return [
        "",
        f"Anchor, the WSGI fallback (gunicorn, one worker, a thread per stream): {w['streams']} "
        f"streams took the server's Redis connections from {w['server_redis_connections_at_0']}"
        f" to {w['server_redis_connections']} ({w['connections_per_stream']} per stream); one "
        f"notification to each: p50 {w['burst']['p50_ms']:.2f} ms, p99 "
        f"{w['burst']['p99_ms']:.2f} ms.",
    ]


def _notifications_channels(n: dict) -> list[str]:
    """The channels_redis anchor beside the SSE figures of the same run."""
    if "channels" not in n:  # results from before the anchor, or run with --no-channels
        return []
    c = n["channels"]
    if "skipped" in c:
        return ["", f"Anchor, channels_redis over WebSockets: skipped ({c['skipped']})."]
    sse_rows, rows = n["memory"]["rows"], c["memory"]["rows"]
    sse_at = {x["streams"]: x for x in sse_rows}
    at = {x["clients"]: x for x in rows}
    counts = [k for k in at if k and k in sse_at]
    top = counts[-1] if counts else rows[-1]["clients"]
    single, burst, missed, mass = c["single"], c["burst"], c["missed"], c["mass_close"]
    restart = n["restart"]
    each_after = restart["appended_after"] // max(1, restart["users"])

    def ms(x: dict) -> str:
        return f"{x['p50_ms']:.2f} / {x['p99_ms']:.2f}"

    table = [
        *(
            (
                f"KiB per idle client at {k:,} (from 0 / per added)",
                f"{sse_at[k]['kib_per_stream']} / {sse_at[k]['kib_per_stream_added']}",
                f"{at[k]['kib_per_client']} / {at[k]['kib_per_client_added']}",
            )
            for k in counts
        ),
        (
            f"server's Redis connections at {top:,}",
            sse_at.get(top, sse_rows[-1])["server_redis_connections"],
            at[top]["server_redis_connections"],
        ),
        ("1 subscriber, p50 / p99 ms", ms(n["single"]), ms(single)),
        (
            f"burst of {burst['subscribers']:,}, one each: p50 / p99 ms",
            ms(n["burst"]),
            ms(burst),
        ),
        ("burst: delivered per s", f"{n['burst']['per_second']:,}", f"{burst['per_second']:,}"),
        (
            "burst: not delivered",
            "0",
            f"{sum(burst.get('not_delivered_per_burst', []))} of "
            f"{burst['subscribers'] * burst['bursts']:,} (the layer's capacity: "
            f"{sum(burst.get('over_capacity_per_burst', []))} dropped)",
        ),
        (
            "missed while disconnected, received on reconnecting",
            f"{restart['reconnected']} streams closed, {each_after} appended to each user "
            f"meanwhile (and a Redis restart), reopened with `Last-Event-ID`: {restart['lost']} "
            f"lost of {restart['expected_deliveries']:,} deliveries",
            f"{missed['received_after_reconnect']} of {missed['sent_while_disconnected']}",
        ),
    ]
    return [
        "",
        "Anchor, channels_redis over WebSockets (`uvicorn bench.channels_app:application "
        "--workers 1`, `RedisChannelLayer` on the same Redis, a group `user.<id>` per user, "
        "`group_send` from the bench process; the consumer has no authentication and nothing "
        f"to replay; negotiated: {', '.join(f'`{e}`' for e in c['extensions']) or 'none'}):",
        *_table(("same run", "SSE (`/api/notifications/stream/`)", "channels_redis"), table),
        "",
        f"{mass['clients']:,} WebSocket clients gone at once: {mass['group_members_left']} of "
        f"{mass['group_members_before']} left in their groups, "
        f"{mass['server_errors'].get('max_connections_errors', '?')} `group_discard`s "
        "refused by redis-py's async pool (100 connections by default); the server's Redis "
        f"connections then {mass['server_redis_connections_after']}.",
    ]


def _tasks_http(h: dict) -> list[str]:
    head = (
        f"request over HTTP (gunicorn -w {h['workers']}, wrk -c{h['connections']}; median of "
        f"{h['rounds']} interleaved runs × {h['seconds']} s)",
        "req/s",
        "p50 ms",
        "p99 ms",
    )
    rows = [
        (
            name,
            f"{x['requests_per_second']:.0f}",
            f"{x['p50_us'] / 1000:.2f}",
            f"{x['p99_us'] / 1000:.2f}",
        )
        for name, x in _pick(h, "plain", "enqueue", "direct_enqueue")
    ]
    ratios = (
        f"Over HTTP `enqueue_on_commit` leaves {h['rps_ratio']}× the plain view's requests/s "
        f"at {h['p50_ratio']}× its p50 (`task.enqueue()` after the commit: "
        f"{h['direct_rps_ratio']}×, {h['direct_p50_ratio']}×); {h['jobs_queued']} jobs handed "
        f"off, {h['left_in_outbox']} rows left in the outbox."
    )
    return [*_table(head, rows), "", ratios]


def _http(h: dict, workers: int, cache: str, endpoint: str) -> dict:
    return next(
        x
        for x in h["runs"]
        if x["workers"] == workers and x["cache"] == cache and x["endpoint"] == endpoint
    )


def _targets(r: dict) -> list[str]:
    t = r["throttle"]
    ours = t["ours"]
    admitted = ours["admitted_of_1000_at_32_threads"]
    across = ours["admitted_of_1000_4_processes_x_8_threads"]
    limits_us, guide_us = t["limits_moving_window"]["median_us"], t["guide_as_written"]["median_us"]
    checks: list[tuple[str, bool, object]] = [
        ("throttle exact (100 of 1000 at 32 threads)", admitted == 100, f"{admitted} admitted"),
        ("throttle exact (4 processes × 8 threads)", across == 100, f"{across} admitted"),
        (
            "throttle: 1 round trip per check",
            ours["round_trips_per_check"] == 1,
            f"{ours['round_trips_per_check']}",
        ),
        (
            "throttle median ≤ limits moving window",
            ours["median_us"] <= limits_us * 1.02,
            f"{ours['median_us']:.1f} vs {limits_us:.1f} µs (2% noise allowed)",
        ),
        (
            "throttle median ≤ 0.5× the guide's",
            ours["median_us"] <= 0.5 * guide_us,
            f"{ours['median_us'] / guide_us:.2f}×",
        ),
    ]
    reads = r.get("cache_reads-postgres") or r["cache_reads-sqlite"]
    signed = reads["http_hit_signed_in"]
    checks += [
        (
            "cache part of a hit ≤ 1.3× a raw GET",
            reads["service_hit"]["x_raw_get"] <= 1.3,
            f"{reads['service_hit']['x_raw_get']}×"
            + (
                ""
                if reads["service_hit"]["x_raw_get"] <= 1.3
                else ": the hit pipelines its group's generation with the entry (2 commands, "
                "1 round trip); that generation is what drops every entry at once (after a "
                "Redis data loss, a migrate, invalidate_all)"
            ),
        ),
        ("signed-in cached detail: 0 SQL", signed["sql"] == 0, f"{signed['sql']} queries"),
        (
            "signed-in cached detail: ≤ 3 Redis round trips",
            signed["redis_round_trips"] <= 3,
            f"{signed['redis_round_trips']} in process without throttles, +1 with the user "
            "throttle: session, auth user, cached record, profile-view counter (issue 7 counts "
            "every detail read), throttle",
        ),
    ]
    s = r["sessions"]
    trips = {
        op: s[f"ours_{op}"]["redis_round_trips"]
        for op in ("load", "changed_save", "unchanged_save")
    }
    checks.append(("sessions: ≤ 1 round trip for load and save", max(trips.values()) <= 1, trips))
    if "http" in r:
        h = r["http"]
        for endpoint, floor in (("detail_anonymous", 2.3), ("detail_signed_in", 1.8)):
            on, off = _http(h, 2, "on", endpoint), _http(h, 2, "off", endpoint)
            ratio = on["requests_per_second"] / off["requests_per_second"]
            checks.append(
                (
                    f"HTTP {endpoint} (2 workers) ≥ {floor}× uncached",
                    ratio >= floor,
                    f"{ratio:.2f}× ({on['requests_per_second']:.0f} vs "
                    f"{off['requests_per_second']:.0f} req/s)"
                    + (
                        ""
                        if ratio >= floor
                        else "; every detail read also counts a profile view (+1 round trip, "
                        "cache on or off) and wrk shares the 2 cores with gunicorn"
                    ),
                )
            )
    checks += [
        (f"hot path: {t['target']}", t["met"], t["measured"])
        for t in r.get("hot_path", {}).get("targets", [])  # none in results before it
        if t["met"] is not None
    ]
    lines = ["## Targets", "", _row("target", "met", "measured"), _row("---", "---", "---")]
    lines += [_row(name, "yes" if ok else "**no**", detail) for name, ok, detail in checks]
    return lines


if __name__ == "__main__":
    main()
