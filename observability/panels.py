"""The dashboard's panels: each feature's numbers over the window and its charts.

Counts come from the time buckets every process adds to (``project.web.observed``), so a
panel shows the whole deployment, not the process that drew it; gauges (stored figures)
are read now and sampled for their charts (``gauges``).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from redis import Redis

from jobs.health import queue_figures
from observability import gauges, memory
from observability.charts import Line, chart
from observability.panel import Panel, Window, duration, estimate, size
from project.events import figures as events
from project.redis import server
from project.web import observed
from sessions import keys as session_keys
from users import keys as user_keys

WINDOW = 60  # buckets: ten minutes
SERVER_HEADS = [
    "node",
    "version",
    "uptime",
    "memory (peak)",
    "fragmentation",
    "maxmemory (policy)",
    "clients",
    "ops/s",
    "evicted",
    "hit ratio",
    "keys",
]
SESSION = memory.family_of(session_keys.session("x" * 32))
SESSION_INDEX = memory.family_of(session_keys.index(1))


def build(client: Redis) -> list[Panel]:
    window = Window(observed.read(WINDOW, client=client))
    sample = memory.sample(client, sized=(SESSION_INDEX,))
    nodes = server.figures(client)
    jobs = queue_figures()
    streams = events.streams(client=client)
    writeback = int(client.hlen(user_keys.counters_pending()))
    gauges.take(
        client,
        {
            "ops": sum(n["ops_per_sec"] for n in nodes),
            "memory": sum(n["used_memory"] for n in nodes) / 2**20,
            "clients": sum(n["clients"] for n in nodes),
            "queued": jobs["queued"],
            "failed": jobs["failed"],
            "outbox": jobs["outbox"],
            "lag": sum(g.lag for s in streams for g in s.groups),
            "writeback": writeback,
        },
    )
    sampled = gauges.read(client, window.starts)
    makers: list[Callable[[], Panel]] = [
        lambda: _server(client, nodes, sampled),
        lambda: _requests(window),
        lambda: _cache(window),
        lambda: _throttles(window),
        lambda: _sessions(window, sample),
        lambda: _events(window, streams),
        lambda: _queues(jobs, sampled),
        lambda: _writeback(writeback, sampled),
        lambda: _memory(sample),
    ]
    return [make() for make in makers]


def _server(client: Redis, nodes: list[dict[str, Any]], sampled: dict) -> Panel:
    panel = Panel("server", "Server")
    panel.rows.append(SERVER_HEADS)
    for n in nodes:
        ratio = "-" if n["hit_ratio"] is None else f"{100 * n['hit_ratio']:.1f}%"
        limit = size(n["maxmemory"]) if n["maxmemory"] else "none"
        panel.rows.append(
            [
                n["node"],
                n["version"],
                duration(n["uptime_s"]),
                f"{size(n['used_memory'])} ({size(n['used_memory_peak'])})",
                f"{n['fragmentation']:.2f}",
                f"{limit} ({n['maxmemory_policy']})",
                str(n["clients"]),
                str(n["ops_per_sec"]),
                str(n["evicted_keys"]),
                ratio,
                str(n["keys"]),
            ]
        )
    panel.notes += server.warnings(client)
    panel.charts.append(chart([Line("ops", sampled["ops"])], title="operations per second"))
    panel.charts.append(
        chart([Line("used", sampled["memory"])], title="memory used (MiB)", unit=" MiB")
    )
    slow = server.slow_log(client)
    if slow:
        panel.notes.append(
            "slow log: " + "; ".join(f"{e['command'][:60]} {e['micros']} µs" for e in slow[:5])
        )
    return panel


def _requests(w: Window) -> Panel:
    panel = Panel("requests", "Requests")
    for status in ("2xx", "3xx", "4xx", "5xx"):
        panel.numbers.append((status, str(w.total(f"http|{status}"))))
    panel.charts.append(
        chart(
            [Line(s, w.rate(f"http|{s}")) for s in ("2xx", "4xx", "5xx")],
            title="responses per second",
        )
    )
    return panel


def _cache(w: Window) -> Panel:
    panel = Panel("cache", "Cache")
    hits, misses = w.total("cache|hit"), w.total("cache|miss")
    refused = w.total("cache|fill_rejected") + w.total("cache|write_through_rejected")
    invalidations = w.total("cache|invalidation") + w.total("cache|tag_invalidation")
    ratio = f"{100 * hits / (hits + misses):.1f}%" if hits + misses else "-"
    panel.numbers += [
        ("hit ratio", ratio),
        ("hits", str(hits)),
        ("misses", str(misses)),
        ("bypasses", str(w.total("cache|bypass"))),
        ("refused fills", str(refused)),
        ("invalidations", str(invalidations)),
        (
            "lost invalidations (recorded, replayed)",
            f"{w.total('cache|invalidation_recorded')}, {w.total('cache|invalidation_replayed')}",
        ),
    ]
    panel.charts.append(
        chart(
            [
                Line("hits", w.rate("cache|hit")),
                Line("misses", w.rate("cache|miss")),
                Line("bypasses", w.rate("cache|bypass")),
                Line("refused fills", w.rate("cache|fill_rejected")),
            ],
            title="cache reads per second",
        )
    )
    panel.charts.append(
        chart(
            [Line("hit ratio", w.ratio("cache|hit", "cache|hit", "cache|miss"))],
            title="hit ratio (%)",
            unit="%",
            top=100,
        )
    )
    return panel


def _throttles(w: Window) -> Panel:
    panel = Panel("throttles", "Throttles")
    scopes = sorted({name.split("|")[1] for name in w.fields("throttle|")})
    panel.rows.append(["scope", "admitted", "refused", "Redis failing (open / closed)"])
    for scope in scopes:
        admitted, refused = (
            w.total(f"throttle|{scope}|admitted"),
            w.total(f"throttle|{scope}|refused"),
        )
        failing = [w.total(f"throttle|{scope}|failed_{how}") for how in ("open", "closed")]
        panel.rows.append([scope, str(admitted), str(refused), " / ".join(map(str, failing))])
    lines = [Line(f"{s} refused", w.rate(f"throttle|{s}|refused")) for s in scopes]
    lines.append(Line("admitted", w.rate(*(f"throttle|{s}|admitted" for s in scopes))))
    panel.charts.append(chart(lines, title="throttle decisions per second"))
    return panel


def _sessions(w: Window, sample: memory.Sample) -> Panel:
    panel = Panel("sessions", "Sessions")
    families = {f.name: f for f in sample.families}
    live = families.get(SESSION)
    index = families.get(SESSION_INDEX)
    sizes = index.sizes if index else []
    failed = [n for n in w.fields("sessions|") if n.endswith("|failed")]
    panel.numbers += [
        ("live sessions", estimate(live.keys if live else 0, sample)),
        ("users with sessions", estimate(index.keys if index else 0, sample)),
        (
            "sessions per user (mean, max)",
            f"{sum(sizes) / len(sizes):.1f}, {max(sizes)}" if sizes else "-",
        ),
        ("failed operations", str(sum(w.total(n) for n in failed))),
    ]
    ops = [n for n in w.fields("sessions|") if n.endswith("|ok")]
    panel.charts.append(
        chart(
            [Line(n.split("|")[1], w.rate(n)) for n in ops] + [Line("failed", w.rate(*failed))],
            title="session operations per second",
        )
    )
    return panel


def _events(w: Window, streams: Sequence[events.StreamFigures]) -> Panel:
    panel = Panel("events", "Events")
    panel.rows.append(["topic", "stream length", "group: lag / pending", "dead letters"])
    for s in streams:
        groups = ", ".join(f"{g.name}: {g.lag} / {g.pending}" for g in s.groups) or "no group"
        panel.rows.append([s.topic, str(s.length), groups, str(s.dead_letters)])
    panel.numbers += [
        (o, str(w.total(f"events|{o}"))) for o in ("published", "consumed", "failed", "lost")
    ]
    panel.charts.append(
        chart(
            [Line(o, w.rate(f"events|{o}")) for o in ("published", "consumed", "failed")],
            title="events per second",
        )
    )
    return panel


def _queues(jobs: dict[str, int], sampled: dict) -> Panel:
    panel = Panel("queues", "Task queue")
    panel.numbers += [(k, str(v)) for k, v in jobs.items()]
    panel.charts.append(
        chart(
            [Line(k, sampled[k]) for k in ("queued", "failed", "outbox")],
            title="jobs waiting",
            unit="",
        )
    )
    panel.notes.append("Jobs one by one: the django-rq pages (Django RQ, below the admin index).")
    return panel


def _writeback(pending: int, sampled: dict) -> Panel:
    panel = Panel("writeback", "Write-back counters")
    panel.numbers.append(("pending counts (user and kind)", str(pending)))
    panel.charts.append(chart([Line("pending", sampled["writeback"])], title="pending", unit=""))
    panel.notes.append("Flushed to the database every COUNTER_FLUSH_SECONDS by the worker.")
    return panel


def _memory(sample: memory.Sample) -> Panel:
    panel = Panel("memory", "Memory by key family")
    panel.rows.append(["family", "keys", "memory", "per key"])
    for f in sample.families[:15]:
        panel.rows.append(
            [
                f.name,
                estimate(f.keys, sample),
                size(int(f.bytes * sample.scale)),
                size(f.bytes // f.keys) if f.keys else "-",
            ]
        )
    panel.notes.append(
        f"Sampled {sample.seen} of {sample.total} keys with SCAN and MEMORY USAGE"
        + ("; counts and sizes scaled up." if sample.seen < sample.total else ".")
    )
    return panel
