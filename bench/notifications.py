"""Live notifications (``GET /api/notifications/stream/``) on one uvicorn worker: memory and
Redis connections per idle stream, delivery latency from the append to the client, and a
Redis restart under open streams. Every figure is given beside a baseline of the same run.

    python bench/notifications.py [--streams 1000,5000] [--burst 1000] [--bursts 3]
                                  [--latency-n 300] [--restart-streams 200]
                                  [--wsgi-streams 100] [--no-channels]
                                                                (make bench-notifications)

The server is ``uvicorn project.asgi:application --workers 1`` (which serves in uvicorn's own
process: its VmRSS is the one read), on the bench's Redis and database (bench.common); its
output goes to bench/out/notifications-uvicorn.log. The clients are raw asyncio connections
of this process (a GET with the session cookie, the response head, then the SSE lines), the
sessions made here with the project's engine, one per user (``--users``, 1,000 by default:
at most 20 streams per user per process).

1. Memory: the server's RSS and the Redis server's ``connected_clients`` after a warm-up at 0
   streams, then with ``--streams`` idle streams open (opened ``--open-concurrency`` at a
   time, spread over the users); KiB per stream = (RSS at N - RSS at 0) / N. The bench's own
   Redis connections, counted before the server starts, are subtracted.
2. Latency: the time from just before the append (``notifications.scripts.notify``: XADD +
   PUBLISH, as ``services.deliver`` calls it; ``time.time()`` travels in the payload) to the
   client reading the event's ``data:`` line. One subscriber, one notification at a time;
   then ``--burst`` subscribers (distinct users, one stream each) and one notification each,
   appended back to back from a thread, ``--bursts`` times. Baselines: a bare redis.asyncio
   pub/sub and XREAD BLOCK round trip from this process, and a bare pub/sub burst.
3. A Redis restart: ``--restart-streams`` streams (4 per user); notifications appended and
   received; one stream per user closed; ``SHUTDOWN SAVE`` and a new redis-server on the
   same data; more appended at once; the closed streams reopened with their
   ``Last-Event-ID``. Every notification appended must arrive once on every stream of its
   user: lost and duplicated are counted by entry id, and the time from Redis answering
   again to the first delivery is taken.
4. The WSGI fallback under gunicorn (``--wsgi-streams``): the server's Redis connections.
5. An anchor, channels_redis (``--no-channels`` skips it; skipped, saying why, when channels
   is not importable): ``uvicorn bench.channels_app:application --workers 1`` (a Channels
   consumer joining group ``user.<id>``; no auth, nothing to replay), the layer
   ``RedisChannelLayer`` on the same Redis. The counts of 1 as WebSocket clients
   (``websockets``, the same opening concurrency), measured as in 1; then 2's latencies with
   ``group_send`` from this process for the append (the burst's from a thread with a loop of
   its own), 1,000 clients in a group each, counting what the layer drops over its
   capacity; then ``--missed-clients`` clients closed, 3 group-sent to each group, reopened:
   how many of those arrive; then ``--burst`` clients gone at once: the discards (``group_discard``)
   that failed and the channels left in the groups. Clients are otherwise closed
   ``--open-concurrency`` at a time, each batch once its channels have left their groups.
   Its server's output goes to bench/out/notifications-channels-uvicorn.log.

Every process started here is stopped here (the bench's redis-server stays up, as for the
other scripts; ``make bench-notifications`` stops it).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import itertools
import json
import logging
import os
import resource
import statistics
import sys
import threading
import time
from collections import Counter
from dataclasses import dataclass, field
from importlib.metadata import version
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, configure, served, uvicorn

if TYPE_CHECKING:
    from websockets.asyncio.client import ClientConnection

OUT = ROOT / "bench" / "out"
LOG = OUT / "notifications-uvicorn.log"
PATH = "/api/notifications/stream/"
PORT = 8766
WSGI_PORT = 8767
CHANNELS_PORT = 8768
CHANNELS_LOG = OUT / "notifications-channels-uvicorn.log"
WS_PATH = "/ws/notifications/"
TYPE = "bench.tick"
FD_MARGIN = 200  # descriptors this process needs besides its streams


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--streams", default="1000,5000", help="idle streams to measure at (1)")
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--open-concurrency", type=int, default=50, help="handshakes at once")
    parser.add_argument("--latency-n", type=int, default=300, help="one subscriber (2)")
    parser.add_argument("--burst", type=int, default=1000, help="subscribers in a burst (2)")
    parser.add_argument("--bursts", type=int, default=3)
    parser.add_argument("--restart-streams", type=int, default=200, help="streams (3)")
    parser.add_argument("--restart-each", type=int, default=3, help="per user, before and after")
    parser.add_argument("--wsgi-streams", type=int, default=100, help="under gunicorn (4); 0: no")
    parser.add_argument(
        "--channels",
        action=argparse.BooleanOptionalAction,
        default=True,
        help="the channels_redis anchor (5)",
    )
    parser.add_argument("--missed-clients", type=int, default=10, help="disconnected (5)")
    args = parser.parse_args()
    wanted = sorted(int(n) for n in args.streams.split(","))
    # Each stream is a descriptor here and one in the server (which inherits this limit).
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    if soft != hard:
        resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    fits = hard - FD_MARGIN
    counts = sorted({min(n, fits) for n in wanted})
    if counts != wanted:
        print(f"RLIMIT_NOFILE hard limit {hard}: measuring at {counts} instead of {wanted}")
    users_needed = max(args.burst, -(-counts[-1] // 20), args.restart_streams // 4, 1)
    if args.users < users_needed:
        args.users = users_needed
    configure("sqlite")
    os.environ["LOG_LEVEL"] = "ERROR"  # the restart's reconnect warnings, in this process

    import django

    django.setup()
    from django.core.management import call_command

    from project.redis.client import get_client

    call_command("migrate", verbosity=0)
    get_client().flushdb()
    cookies, user_ids = _sign_in(args.users)
    report: dict[str, Any] = {
        "streams": counts,
        "nofile_hard_limit": hard,
        "users": args.users,
        "open_concurrency": args.open_concurrency,
    }
    report["floor"] = asyncio.run(_floors(args.latency_n, args.burst, args.bursts))
    own = _connected_clients()  # this process's, less the floors' (closed)
    OUT.mkdir(parents=True, exist_ok=True)
    with open(LOG, "w") as log:
        with uvicorn(log=log, port=PORT) as (_, server):
            bench = Bench(PORT, server.pid, cookies, user_ids, own, args.open_concurrency)
            asyncio.run(bench.run(report, counts, args))
        if args.wsgi_streams:
            report["wsgi"] = _wsgi(args.wsgi_streams, cookies, user_ids, own, log)
    if args.channels:
        report["channels"] = _channels(counts, user_ids, args)
    (OUT / "notifications.json").write_text(json.dumps(report, indent=2))
    print_report(report)


# --- Sessions, appends, the Redis server -------------------------------------------------


def _sign_in(n: int) -> tuple[list[str], list[int]]:
    """``n`` users, made in bulk, and a session of each (the keys ``login()`` writes):
    the session keys (the ``sessionid`` cookie) and the user ids, in the same order."""
    from django.conf import settings
    from django.contrib.auth import BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY

    from sessions.backends.redis import SessionStore
    from users.models import User

    User.objects.all().delete()
    User.objects.bulk_create(
        [User(username=f"n{i}", email=f"n{i}@example.com", password="!") for i in range(n)]
    )
    cookies, ids = [], []
    for user in User.objects.order_by("pk"):
        store = SessionStore()
        store[SESSION_KEY] = user._meta.pk.value_to_string(user)
        store[BACKEND_SESSION_KEY] = settings.AUTHENTICATION_BACKENDS[0]
        store[HASH_SESSION_KEY] = user.get_session_auth_hash()
        store.create()
        cookies.append(str(store.session_key))
        ids.append(user.pk)
    return cookies, ids


def append(user_id: int, n: int) -> str:
    """One notification for ``user_id``, as ``services.deliver`` appends it, with the time
    just before the append in it; its entry id."""
    from notifications import scripts, services
    from project.redis.client import get_client

    sent = time.time()
    payload = json.dumps({"type": TYPE, "n": n, "t": sent}, separators=(",", ":"))
    entry_id = scripts.notify(
        get_client(), user_id, delivery=f"bench-{n}", payload=payload,
        keep=services.keep(), ttl=services.ttl(), now_ms=int(sent * 1000),
    )  # fmt: skip
    assert entry_id is not None, f"delivery bench-{n} was appended before"
    return entry_id


def _connected_clients() -> int:
    from project.redis.local import LocalRedis

    with LocalRedis.from_environ().client(timeout=5) as server:
        return int(server.info("clients")["connected_clients"]) - 1  # less this one


def _status(pid: int, name: str) -> int:
    """A number from /proc/<pid>/status: ``VmRSS`` (KiB), ``Threads``."""
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith(f"{name}:"):
            return int(line.split()[1])
    raise RuntimeError(f"no {name} for {pid}")


async def _settled(pid: int, timeout: float = 30) -> float:
    """Wait until the server is idle (under 5% of a core over 0.5 s: opened or closed
    streams are done with); how long that took (s)."""
    began = time.monotonic()

    def cpu() -> float:  # utime + stime, in clock ticks
        fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")

    last = cpu()
    while time.monotonic() - began < timeout:
        await asyncio.sleep(0.5)
        now = cpu()
        if now - last < 0.025:
            break
        last = now
    return round(time.monotonic() - began, 1)


def _restart_redis() -> float:
    """``SHUTDOWN SAVE`` the bench's Redis and start it again on that snapshot; how long it
    was down (s). The snapshot is removed once loaded: the bench's Redis keeps nothing."""
    from redis import ConnectionError as RedisConnectionError

    from project.redis.local import LocalRedis

    local = LocalRedis.from_environ()
    down = time.monotonic()
    with local.client(timeout=10) as server, contextlib.suppress(RedisConnectionError):
        server.shutdown(save=True)
    while local.is_running():
        time.sleep(0.01)
    local.ensure_running()
    (local.directory / "dump.rdb").unlink(missing_ok=True)
    return time.monotonic() - down


def _kib_per(rows: list[dict[str, Any]], unit: str) -> None:
    """KiB of server RSS per open ``unit`` (rows counted in ``<unit>s``): from the first
    row (0 open) and per one added since the row before."""
    for before, row in itertools.pairwise(rows):
        row[f"kib_per_{unit}"] = round((row["rss_kib"] - rows[0]["rss_kib"]) / row[f"{unit}s"], 1)
        row[f"kib_per_{unit}_added"] = round(
            (row["rss_kib"] - before["rss_kib"]) / (row[f"{unit}s"] - before[f"{unit}s"]), 1
        )


def _quantiles(samples_ms: list[float]) -> dict[str, float]:
    ordered = sorted(samples_ms)
    return {
        "n": len(ordered),
        "p50_ms": round(statistics.median(ordered), 3),
        "p99_ms": round(ordered[min(len(ordered) - 1, int(len(ordered) * 0.99))], 3),
        "max_ms": round(ordered[-1], 3),
    }


# --- The floors: bare redis.asyncio from this process --------------------------------------


async def _floors(n: int, burst: int, bursts: int) -> dict[str, Any]:
    """One message at a time through PUBLISH to a redis.asyncio subscriber and through XADD
    to a redis.asyncio XREAD BLOCK; and ``burst`` PUBLISHes back to back from a thread."""
    import redis.asyncio

    from project.redis.local import LocalRedis

    local = LocalRedis.from_environ()
    publisher = local.client(timeout=5)
    subscriber = redis.asyncio.Redis(unix_socket_path=str(local.socket_path))
    pubsub = subscriber.pubsub(ignore_subscribe_messages=True)
    await pubsub.subscribe("bench:floor")
    arrived: asyncio.Queue[tuple[float, bytes]] = asyncio.Queue()

    async def listen() -> None:
        while True:
            message = await pubsub.get_message(timeout=None)
            if message is not None:
                arrived.put_nowait((time.time(), message["data"]))

    async def xread() -> None:
        last: Any = "$"
        while True:
            found: Any = await subscriber.xread({"bench:floor:stream": last}, block=5000)
            for _, entries in found:
                for entry_id, fields in entries:
                    arrived.put_nowait((time.time(), fields[b"t"]))
                    last = entry_id

    result: dict[str, Any] = {}
    listener = asyncio.create_task(listen())
    result["pubsub"] = await _one_at_a_time(
        n, arrived, lambda: publisher.publish("bench:floor", repr(time.time()))
    )
    rates, latencies = [], []
    for _ in range(bursts):
        first = time.time()
        thread = threading.Thread(target=_publish_burst, args=(publisher, burst))
        thread.start()
        times = [await asyncio.wait_for(arrived.get(), 10) for _ in range(burst)]
        thread.join()
        latencies += [(at - float(sent)) * 1000 for at, sent in times]
        rates.append(burst / (times[-1][0] - first))
    result["pubsub_burst"] = {
        **_quantiles(latencies),
        "per_second": round(statistics.median(rates)),
    }
    listener.cancel()
    await pubsub.aclose()
    reader = asyncio.create_task(xread())
    await asyncio.sleep(0.05)  # blocked on XREAD
    result["xread_block"] = await _one_at_a_time(
        n, arrived, lambda: publisher.xadd("bench:floor:stream", {"t": repr(time.time())})
    )
    reader.cancel()
    await subscriber.aclose()
    publisher.close()
    return result


def _publish_burst(publisher: Any, count: int) -> None:
    for _ in range(count):
        publisher.publish("bench:floor", repr(time.time()))


async def _one_at_a_time(n: int, arrived: asyncio.Queue, send: Any) -> dict[str, float]:
    latencies = []
    for i in range(n + 20):
        send()
        at, sent = await asyncio.wait_for(arrived.get(), 10)
        if i >= 20:  # warmed up
            latencies.append((at - float(sent)) * 1000)
    return _quantiles(latencies)


# --- The clients ---------------------------------------------------------------------------


@dataclass(eq=False)
class Stream:
    """One open stream, as EventSource sees it: its events, as (arrival, id, data)."""

    user_id: int
    reader: asyncio.StreamReader
    writer: asyncio.StreamWriter
    inbox: asyncio.Queue[tuple[Stream, float, str, bytes]]
    events: list[tuple[float, str, bytes]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None

    async def read(self) -> None:
        event_id = ""
        while line := await self.reader.readline():
            if line.startswith(b"data: "):
                at = time.time()
                self.events.append((at, event_id, line[6:]))
                self.inbox.put_nowait((self, at, event_id, line[6:]))
            elif line.startswith(b"id: "):
                event_id = line[4:].strip().decode()

    def close(self) -> None:
        if self.task is not None:
            self.task.cancel()
        self.writer.close()

    @property
    def last_id(self) -> str:
        return next((e[1] for e in reversed(self.events) if e[1]), "")


class Bench:
    def __init__(
        self,
        port: int,
        pid: int,
        cookies: list[str],
        user_ids: list[int],
        own: int,
        concurrency: int,
    ) -> None:
        self.port = port
        self.pid = pid
        self.cookies = dict(zip(user_ids, cookies, strict=True))
        self.user_ids = user_ids
        self.own = own  # this process's Redis connections
        self.opening = asyncio.Semaphore(concurrency)
        self.inbox: asyncio.Queue[tuple[Stream, float, str, bytes]] = asyncio.Queue()
        self.statuses: Counter[int] = Counter()

    async def open(self, user_id: int, last_event_id: str = "") -> Stream:
        async with self.opening:
            for attempt in range(20):
                reader, writer = await asyncio.open_connection("127.0.0.1", self.port)
                extra = f"Last-Event-ID: {last_event_id}\r\n" if last_event_id else ""
                writer.write(
                    f"GET {PATH} HTTP/1.1\r\nHost: 127.0.0.1:{self.port}\r\n"
                    f"Accept: text/event-stream\r\nCookie: sessionid={self.cookies[user_id]}\r\n"
                    f"{extra}\r\n".encode()
                )
                head = await reader.readuntil(b"\r\n\r\n")
                status = int(head.split(b" ", 2)[1])
                self.statuses[status] += 1
                if status == 200:
                    stream = Stream(user_id, reader, writer, self.inbox)
                    stream.task = asyncio.create_task(stream.read())
                    return stream
                writer.close()
                await asyncio.sleep(0.1 * (attempt + 1))  # a 503 while Redis restarts
            raise RuntimeError(f"no stream for user {user_id}: {dict(self.statuses)}")

    async def open_many(self, users: list[int]) -> list[Stream]:
        return list(await asyncio.gather(*(self.open(user_id) for user_id in users)))

    def connections(self) -> int:
        """The server's Redis connections: the Redis server's, less this process's."""
        return _connected_clients() - self.own

    def drain(self) -> None:
        while not self.inbox.empty():
            self.inbox.get_nowait()

    async def run(self, report: dict[str, Any], counts: list[int], args: Any) -> None:
        report["memory"] = await self.memory(counts)
        streams = report["memory"].pop("_streams")
        # 2. One stream per user for the burst; one stream alone for one at a time.
        per_user: dict[int, Stream] = {}
        for stream in streams:
            if stream.user_id not in per_user and len(per_user) < args.burst:
                per_user[stream.user_id] = stream
            else:
                stream.close()
        report["burst_settled_s"] = await _settled(self.pid)
        report["burst"] = await self.burst(list(per_user.values()), args.bursts)
        report["burst"]["server_redis_connections_after"] = self.connections()
        alone = per_user.pop(self.user_ids[0])
        for stream in per_user.values():
            stream.close()
        await _settled(self.pid)
        report["single"] = await self.single(alone, args.latency_n)
        alone.close()
        await _settled(self.pid)
        report["restart"] = await self.restart(args.restart_streams, args.restart_each)

    async def memory(self, counts: list[int]) -> dict[str, Any]:
        # Warm-up: every code path a stream takes once (the hub's reader starts), then closed.
        warm = await self.open_many(self.user_ids[:20])
        for n, stream in enumerate(warm):
            await asyncio.to_thread(append, stream.user_id, -1 - n)
        for _ in warm:
            await asyncio.wait_for(self.inbox.get(), 10)
        for stream in warm:
            stream.close()
        await asyncio.sleep(1)
        await _settled(self.pid)
        rows = [self._measure(0)]
        streams: list[Stream] = []
        for count in counts:
            began = time.monotonic()
            more = [self.user_ids[i % len(self.user_ids)] for i in range(len(streams), count)]
            streams += await self.open_many(more)
            opened = time.monotonic() - began
            await asyncio.sleep(1)
            await _settled(self.pid)
            rows.append({**self._measure(count), "opened_per_s": round(len(more) / opened)})
        _kib_per(rows, "stream")
        return {"rows": rows, "statuses": dict(self.statuses), "_streams": streams}

    def _measure(self, count: int) -> dict[str, Any]:
        return {
            "streams": count,
            "rss_kib": _status(self.pid, "VmRSS"),
            "threads": _status(self.pid, "Threads"),
            "server_redis_connections": self.connections(),
        }

    async def single(self, stream: Stream, n: int) -> dict[str, Any]:
        self.drain()
        latencies = []
        for i in range(n + 20):
            append(stream.user_id, 1_000_000 + i)  # returns before the hub can have read it
            _, at, _, data = await asyncio.wait_for(self.inbox.get(), 10)
            if i >= 20:
                latencies.append((at - json.loads(data)["t"]) * 1000)
        return _quantiles(latencies)

    async def burst(self, streams: list[Stream], bursts: int) -> dict[str, Any]:
        self.drain()
        latencies: list[float] = []
        rates, append_rates, p99s = [], [], []
        for b in range(bursts):
            users = [s.user_id for s in streams]
            began = time.time()
            done: list[float] = []
            appending = asyncio.create_task(
                asyncio.to_thread(_append_all, users, 2_000_000 + b * len(users), done)
            )
            arrivals = [await asyncio.wait_for(self.inbox.get(), 30) for _ in users]
            await appending
            these = [(at - json.loads(data)["t"]) * 1000 for _, at, _, data in arrivals]
            latencies += these
            p99s.append(_quantiles(these)["p99_ms"])
            rates.append(len(users) / (arrivals[-1][1] - began))
            append_rates.append(len(users) / (done[0] - began))
            await asyncio.sleep(0.5)
        return {
            "subscribers": len(streams),
            "bursts": bursts,
            **_quantiles(latencies),
            "per_second": round(statistics.median(rates)),
            "appended_per_second": round(statistics.median(append_rates)),
            "p99_ms_per_burst": p99s,
        }

    async def restart(self, count: int, each: int) -> dict[str, Any]:
        users = self.user_ids[: max(1, count // 4)]
        streams = await self.open_many([u for u in users for _ in range(4)])
        await asyncio.sleep(0.5)
        self.drain()
        expected: dict[int, list[str]] = {u: [] for u in users}
        n = 3_000_000
        for user_id in users:
            for _ in range(each):
                expected[user_id].append(append(user_id, n))
                n += 1
        await self._received(len(streams) * each, 10)
        # One stream per user goes away; the others stay open through the restart.
        gone = {s.user_id: s for s in streams[::4]}
        for stream in gone.values():
            stream.close()
        connections_before = self.connections()
        down_s = _restart_redis()
        back = time.time()
        after: dict[int, list[str]] = {u: [] for u in users}
        for user_id in users:
            for _ in range(each):
                after[user_id].append(_append_retried(user_id, n))
                n += 1
        appended_s = time.time() - back
        refused = sum(self.statuses.values()) - self.statuses[200]
        reopened = [await self.open(u, last_event_id=s.last_id) for u, s in gone.items()]
        wanted = len(streams) * each
        arrivals = await self._received(wanted, 30)
        await asyncio.sleep(1)  # anything sent twice would come now
        # The first the hub sent after the restart (the reopened streams read on opening).
        first = min((at for s, at in arrivals if s not in reopened), default=None)
        # A slot: one stream, or a closed one and its reconnect, which must add up to it.
        slots = [[s] for s in streams if s not in gone.values()]
        slots += [[gone[r.user_id], r] for r in reopened]
        lost = duplicated = unexpected = 0
        for slot in slots:
            appended = expected[slot[0].user_id] + after[slot[0].user_id]
            seen = Counter(e[1] for s in slot for e in s.events)
            lost += sum(seen[entry_id] == 0 for entry_id in appended)
            duplicated += sum(c - 1 for c in seen.values() if c > 1)
            unexpected += sum(1 for entry_id in seen if entry_id not in appended)
        for s in [*streams, *reopened]:
            s.close()
        return {
            "streams": len(streams),
            "users": len(users),
            "reconnected": len(reopened),
            "reconnects_refused_first": sum(self.statuses.values()) - self.statuses[200] - refused,
            "appended_before": sum(map(len, expected.values())),
            "appended_after": sum(map(len, after.values())),
            "expected_deliveries": len(slots) * each * 2,
            "lost": lost,
            "duplicated": duplicated,
            "unexpected": unexpected,
            "redis_down_s": round(down_s, 3),
            "appended_after_s": round(appended_s, 3),
            "first_delivery_after_restart_ms": (
                round((first - back) * 1000, 1) if first is not None else None
            ),
            "all_delivered_after_restart_ms": (
                round((max(at for _, at in arrivals) - back) * 1000, 1)
                if len(arrivals) >= wanted
                else None
            ),
            "server_redis_connections_before": connections_before,
            "server_redis_connections_after": self.connections(),
        }

    async def _received(self, count: int, timeout: float) -> list[tuple[Stream, float]]:
        """Up to ``count`` events (stream, arrival), waiting at most ``timeout`` s in all."""
        deadline = time.monotonic() + timeout
        arrivals: list[tuple[Stream, float]] = []
        while len(arrivals) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                stream, at, _, _ = await asyncio.wait_for(self.inbox.get(), left)
            except TimeoutError:
                break
            arrivals.append((stream, at))
        return arrivals


def _wsgi(n: int, cookies: list[str], user_ids: list[int], own: int, log: IO[str]) -> dict:
    """The WSGI fallback (each stream an XREAD BLOCK on a connection of its own) under
    gunicorn, one worker with a thread per stream: the server's Redis connections at 0 and
    at ``n`` streams, and one notification to each."""
    command = [
        str(Path(sys.executable).with_name("gunicorn")), "project.wsgi", "--workers", "1",
        "--threads", str(n + 8), "--bind", f"127.0.0.1:{WSGI_PORT}", "--log-level", "error",
    ]  # fmt: skip

    async def measure(bench: Bench) -> dict[str, Any]:
        idle = bench.connections()
        streams = await bench.open_many(user_ids[:n])
        await asyncio.sleep(1)
        opened = bench.connections()
        await asyncio.to_thread(_append_all, [s.user_id for s in streams], 4_000_000, [])
        arrivals = [await asyncio.wait_for(bench.inbox.get(), 30) for _ in streams]
        latencies = [(at - json.loads(data)["t"]) * 1000 for _, at, _, data in arrivals]
        for stream in streams:
            stream.close()
        return {
            "streams": n,
            "server_redis_connections_at_0": idle,
            "server_redis_connections": opened,
            "connections_per_stream": round((opened - idle) / n, 2),
            "burst": _quantiles(latencies),
        }

    with served("gunicorn", command, WSGI_PORT, log=log) as (_, server):
        return asyncio.run(measure(Bench(WSGI_PORT, server.pid, cookies, user_ids, own, 50)))


def _append_retried(user_id: int, n: int) -> str:
    """``append``, once more if the first try met a connection the restart closed."""
    from redis import ConnectionError as RedisConnectionError

    try:
        return append(user_id, n)
    except RedisConnectionError:
        return append(user_id, n)


def _append_all(users: list[int], first: int, done: list[float]) -> None:
    for i, user_id in enumerate(users):
        append(user_id, first + i)
    done.append(time.time())


# --- 5. The anchor: channels_redis group send over WebSockets ------------------------------


def _channels(counts: list[int], user_ids: list[int], args: Any) -> dict[str, Any]:
    """Section 5 under ``uvicorn bench.channels_app:application --workers 1``: the same
    counts, opening concurrency, sends and bursts as 1 and 2, a WebSocket client in this
    process where a stream was, a ``group_send`` to ``user.<id>`` where an append was."""
    try:
        import channels  # noqa: F401
        import channels_redis  # noqa: F401
        import websockets  # noqa: F401
    except ImportError as error:
        reason = f"{error} (the bench's requirements: make .venv-bench/.installed)"
        print(f"5. channels_redis anchor skipped: {reason}")
        return {"skipped": reason}
    from django.conf import settings

    from bench.channels_app import channel_layers

    settings.CHANNEL_LAYERS = channel_layers()  # what get_channel_layer() reads
    _count_over_capacity()
    result = asyncio.run(_channels_run(counts, user_ids, args))
    result["versions"] = {name: version(name) for name in ("channels", "channels-redis")}
    return result


async def _channels_run(counts: list[int], user_ids: list[int], args: Any) -> dict[str, Any]:
    from channels.layers import get_channel_layer

    command = [
        sys.executable, "-m", "uvicorn", "bench.channels_app:application",
        "--host", "127.0.0.1", "--port", str(CHANNELS_PORT), "--workers", "1",
        "--lifespan", "off", "--timeout-graceful-shutdown", "3", "--log-level", "warning",
        "--no-access-log",
    ]  # fmt: skip
    layer = get_channel_layer()
    sender = Sender()
    try:
        # This process's channel layer connections (this loop's, the sender's) are made
        # before the count, so that they are subtracted from the server's.
        await _group_send(layer, 0, -1)
        await sender.run(_group_send(layer, 0, -1))
        own = await _steady_clients()  # the servers before this one may still be closing
        with (
            open(CHANNELS_LOG, "w") as log,
            served("uvicorn", command, CHANNELS_PORT, log=log) as (_, server),
        ):
            bench = ChannelsBench(server.pid, user_ids, own, args.open_concurrency, layer, sender)
            return await bench.run(counts, args)
    finally:
        sender.stop()


async def _group_send(layer: Any, user_id: int, n: int) -> None:
    """One notification to group ``user.<id>``, with the time just before the send in it."""
    sent = time.time()
    text = json.dumps({"type": TYPE, "n": n, "t": sent}, separators=(",", ":"))
    await layer.group_send(f"user.{user_id}", {"type": "notify", "text": text})


async def _group_send_all(layer: Any, users: list[int], first: int, done: list[float]) -> None:
    for i, user_id in enumerate(users):
        await _group_send(layer, user_id, first + i)
    done.append(time.time())


class _Counted(logging.Handler):
    """Counts channels_redis's "N of M channels over capacity" records (a group send it
    dropped for a channel holding ``capacity`` messages already: 100 by default)."""

    def emit(self, record: logging.LogRecord) -> None:
        if "over capacity" in record.msg:
            OVER_CAPACITY[0] += int(str(record.args[0])) if isinstance(record.args, tuple) else 1


OVER_CAPACITY: Counter[int] = Counter()


def _count_over_capacity() -> None:
    layer_log = logging.getLogger("channels_redis.core")
    layer_log.setLevel(logging.INFO)
    layer_log.propagate = False
    layer_log.addHandler(_Counted())


async def _steady_clients(timeout: float = 30) -> int:
    """``_connected_clients()`` once it has held still for a second (the connections of a
    server just stopped, the WSGI fallback's hundreds, take a moment to go)."""
    deadline = time.monotonic() + timeout
    seen = [_connected_clients()]
    while time.monotonic() < deadline and (len(seen) < 5 or len(set(seen[-5:])) > 1):
        await asyncio.sleep(0.25)
        seen.append(_connected_clients())
    return seen[-1]


def _group_members() -> int:
    """Channels in every ``user.<id>`` group (channels_redis's sorted sets), all of them."""
    from project.redis.local import LocalRedis

    with LocalRedis.from_environ().client(timeout=5) as server:
        pipe = server.pipeline(transaction=False)
        for key in server.scan_iter("asgi:group:user.*", 1000):
            pipe.zcard(key)
        return sum(pipe.execute())


def _errors_logged() -> dict[str, int]:
    """What the channels server logged: ASGI exceptions; of them, redis-py's pool refusing a
    connection, and a Redis read timing out."""
    text = CHANNELS_LOG.read_text() if CHANNELS_LOG.exists() else ""
    return {
        "asgi_exceptions": text.count("Exception in ASGI application"),
        "max_connections_errors": text.count("MaxConnectionsError: Too many connections"),
        "redis_timeouts": text.count("redis.exceptions.TimeoutError"),
    }


class Sender:
    """A thread with an event loop of its own, for the bursts' group sends (as the SSE
    burst's appends come from a thread) while this process's loop reads the sockets."""

    def __init__(self) -> None:
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self._run, name="group-send", daemon=True)
        self.thread.start()

    def _run(self) -> None:
        self.loop.run_forever()
        self.loop.close()  # channels_redis closes this loop's connections as it closes

    async def run(self, work: Any) -> Any:
        return await asyncio.wrap_future(asyncio.run_coroutine_threadsafe(work, self.loop))

    def stop(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(30)


@dataclass(eq=False)
class Socket:
    """One open WebSocket (the ``websockets`` client): its messages, as (arrival, text)."""

    user_id: int
    ws: ClientConnection
    inbox: asyncio.Queue[tuple[Socket, float, str]]
    dropped: Counter[int]  # close codes of the sockets the server closed
    texts: list[tuple[float, str]] = field(default_factory=list)
    task: asyncio.Task[None] | None = None
    closing: bool = False

    async def read(self) -> None:
        from websockets.exceptions import ConnectionClosed

        with contextlib.suppress(ConnectionClosed):
            async for text in self.ws:
                at = time.time()
                self.texts.append((at, str(text)))
                self.inbox.put_nowait((self, at, str(text)))
        if not self.closing:
            self.dropped[self.ws.close_code or 0] += 1

    def close(self) -> None:
        """Gone without a close frame, as ``Stream.close()`` goes without a last chunk."""
        self.closing = True
        if self.task is not None:
            self.task.cancel()
        self.ws.transport.close()

    async def aclose(self) -> None:
        """A clean close: the close handshake, then the read loop ends."""
        self.closing = True
        await self.ws.close()
        if self.task is not None:
            await self.task


class ChannelsBench:
    def __init__(
        self,
        pid: int,
        user_ids: list[int],
        own: int,
        concurrency: int,
        layer: Any,
        sender: Sender,
    ) -> None:
        self.pid = pid
        self.user_ids = user_ids
        self.own = own  # this process's Redis connections
        self.layer = layer
        self.sender = sender
        self.concurrency = concurrency
        self.opening = asyncio.Semaphore(concurrency)
        self.inbox: asyncio.Queue[tuple[Socket, float, str]] = asyncio.Queue()
        self.outcomes: Counter[str] = Counter()
        self.extensions: Counter[str] = Counter()
        self.dropped: Counter[int] = Counter()

    async def open(self, user_id: int) -> Socket:
        from websockets.asyncio.client import connect
        from websockets.exceptions import WebSocketException

        url = f"ws://127.0.0.1:{CHANNELS_PORT}{WS_PATH}?user={user_id}"
        async with self.opening:
            for attempt in range(20):
                try:
                    # No client pings (uvicorn's own, every 20 s, stay); the library's
                    # default offer of permessage-deflate, as a browser makes one.
                    ws = await connect(url, ping_interval=None, open_timeout=30, close_timeout=5)
                except (OSError, TimeoutError, WebSocketException) as error:
                    self.outcomes[type(error).__name__] += 1
                    await asyncio.sleep(0.1 * (attempt + 1))
                    continue
                self.outcomes["accepted"] += 1
                headers = ws.response.headers if ws.response is not None else {}
                self.extensions[headers.get("Sec-WebSocket-Extensions", "")] += 1
                socket = Socket(user_id, ws, self.inbox, self.dropped)
                socket.task = asyncio.create_task(socket.read())
                return socket
            raise RuntimeError(f"no WebSocket for user {user_id}: {dict(self.outcomes)}")

    async def open_many(self, users: list[int]) -> list[Socket]:
        return list(await asyncio.gather(*(self.open(user_id) for user_id in users)))

    async def close_many(self, sockets: list[Socket]) -> None:
        """Closed cleanly, ``concurrency`` at a time, each batch once the server has left
        the groups (each close a ``group_discard``): more discards at once than the pool of the
        server's layer has connections fail, and leave the channels in the groups (see
        mass_close), which later sends would then go to as well."""
        for i in range(0, len(sockets), self.concurrency):
            batch = sockets[i : i + self.concurrency]
            members = _group_members()
            await asyncio.gather(*(s.aclose() for s in batch))
            deadline = time.monotonic() + 10
            while _group_members() > members - len(batch) and time.monotonic() < deadline:
                await asyncio.sleep(0.005)

    def connections(self) -> int:
        """The server's Redis connections: the Redis server's, less this process's."""
        return _connected_clients() - self.own

    def drain(self) -> None:
        while not self.inbox.empty():
            self.inbox.get_nowait()

    async def run(self, counts: list[int], args: Any) -> dict[str, Any]:
        report: dict[str, Any] = {"port": CHANNELS_PORT}
        report["memory"] = await self.memory(counts)
        sockets = report["memory"].pop("_sockets")
        report["server_errors_after_opening"] = _errors_logged()
        per_user: dict[int, Socket] = {}
        others = []
        for socket in sockets:
            if socket.user_id not in per_user and len(per_user) < args.burst:
                per_user[socket.user_id] = socket
            else:
                others.append(socket)
        await self.close_many(others)
        report["burst_settled_s"] = await _settled(self.pid)
        report["burst_group_members"] = _group_members()
        report["server_errors_before_burst"] = _errors_logged()
        report["burst"] = await self.burst(list(per_user.values()), args.bursts)
        report["burst"]["server_redis_connections_after"] = self.connections()
        alone = per_user.pop(self.user_ids[0])
        await self.close_many(list(per_user.values()))
        await _settled(self.pid)
        report["single"] = await self.single(alone, args.latency_n)
        await alone.aclose()
        await _settled(self.pid)
        report["missed"] = await self.missed(args.missed_clients, 3)
        report["mass_close"] = await self.mass_close(args.burst)
        report["server_redis_connections_at_end"] = self.connections()
        report["server_errors"] = _errors_logged()
        report["over_capacity"] = OVER_CAPACITY.total()
        report["closed_by_server"] = dict(self.dropped)  # close code: sockets
        report["extensions"] = dict(self.extensions)
        return report

    async def memory(self, counts: list[int]) -> dict[str, Any]:
        # Warm-up: every code path a client takes once (the layer's receive loop starts).
        warm = await self.open_many(self.user_ids[:20])
        for n, socket in enumerate(warm):
            await _group_send(self.layer, socket.user_id, -1 - n)
        for _ in warm:
            await asyncio.wait_for(self.inbox.get(), 10)
        await self.close_many(warm)
        await asyncio.sleep(1)
        await _settled(self.pid)
        rows = [self._measure(0)]
        sockets: list[Socket] = []
        for count in counts:
            began = time.monotonic()
            more = [self.user_ids[i % len(self.user_ids)] for i in range(len(sockets), count)]
            sockets += await self.open_many(more)
            opened = time.monotonic() - began
            await asyncio.sleep(1)
            await _settled(self.pid)
            rows.append({**self._measure(count), "opened_per_s": round(len(more) / opened)})
        _kib_per(rows, "client")
        return {"rows": rows, "outcomes": dict(self.outcomes), "_sockets": sockets}

    def _measure(self, count: int) -> dict[str, Any]:
        return {
            "clients": count,
            "rss_kib": _status(self.pid, "VmRSS"),
            "threads": _status(self.pid, "Threads"),
            "server_redis_connections": self.connections(),
            "group_members": _group_members(),
        }

    async def single(self, socket: Socket, n: int) -> dict[str, Any]:
        self.drain()
        latencies = []
        for i in range(n + 20):
            await _group_send(self.layer, socket.user_id, 1_000_000 + i)
            _, at, text = await asyncio.wait_for(self.inbox.get(), 10)
            if i >= 20:
                latencies.append((at - json.loads(text)["t"]) * 1000)
        return _quantiles(latencies)

    async def burst(self, sockets: list[Socket], bursts: int) -> dict[str, Any]:
        self.drain()
        latencies: list[float] = []
        rates, send_rates, p99s = [], [], []
        missing: list[int] = []
        dropped: list[int] = []
        for b in range(bursts):
            users = [s.user_id for s in sockets]
            began = time.time()
            done: list[float] = []
            sending = asyncio.create_task(
                self.sender.run(
                    _group_send_all(self.layer, users, 2_000_000 + b * len(users), done)
                )
            )
            over = OVER_CAPACITY.total()
            arrivals: list[tuple[Socket, float, str]] = []
            while len(arrivals) < len(users):
                try:  # a send the layer dropped (over capacity) never arrives
                    timeout = 5 if sending.done() else 30
                    arrivals.append(await asyncio.wait_for(self.inbox.get(), timeout))
                except TimeoutError:
                    break
            await sending
            dropped.append(OVER_CAPACITY.total() - over)
            missing.append(len(users) - len(arrivals))
            if not arrivals:
                continue
            these = [(at - json.loads(text)["t"]) * 1000 for _, at, text in arrivals]
            latencies += these
            p99s.append(_quantiles(these)["p99_ms"])
            rates.append(len(arrivals) / (arrivals[-1][1] - began))
            send_rates.append(len(users) / (done[0] - began))
            await asyncio.sleep(0.5)
        return {
            "subscribers": len(sockets),
            "bursts": bursts,
            **(_quantiles(latencies) if latencies else {}),
            "per_second": round(statistics.median(rates)) if rates else 0,
            "group_sends_per_second": round(statistics.median(send_rates)) if send_rates else 0,
            "p99_ms_per_burst": p99s,
            "not_delivered_per_burst": missing,
            "over_capacity_per_burst": dropped,
        }

    async def missed(self, count: int, each: int) -> dict[str, Any]:
        """``count`` clients (a user each) get one message, close cleanly, ``each`` are sent
        to each group while they are away, and they open again: what arrives then."""
        users = self.user_ids[:count]
        sockets = await self.open_many(users)
        self.drain()
        for n, user_id in enumerate(users):
            await _group_send(self.layer, user_id, 5_000_000 + n)
        live = len(await self._received(len(sockets), 10))
        for socket in sockets:
            await socket.aclose()
        await asyncio.sleep(0.5)
        await _settled(self.pid)  # the consumers' disconnect (group_discard) done
        n = 5_100_000
        for user_id in users:
            for _ in range(each):
                await _group_send(self.layer, user_id, n)
                n += 1
        reopened = await self.open_many(users)
        replayed = await self._received(len(users) * each, 3)
        for user_id in users:  # and the group reaches the new socket
            await _group_send(self.layer, user_id, n)
            n += 1
        after = await self._received(len(users), 10)
        await self.close_many(reopened)
        await _settled(self.pid)
        return {
            "clients": len(users),
            "received_before": live,
            "sent_while_disconnected": len(users) * each,
            "received_after_reconnect": sum(s in reopened for s, _ in replayed),
            "received_sent_after_reconnect": sum(s in reopened for s, _ in after),
        }

    async def mass_close(self, count: int) -> dict[str, Any]:
        """``count`` clients (a user each) gone at once without a close frame (a network
        drop, a deploy): each consumer's ``group_discard`` at the same moment, on a pool that
        redis-py caps at 100 connections. What failed, and what stays in the groups."""
        sockets = await self.open_many(self.user_ids[:count])
        await asyncio.sleep(0.5)
        await _settled(self.pid)
        members, errors = _group_members(), _errors_logged()
        for socket in sockets:
            socket.close()
        await asyncio.sleep(1)
        await _settled(self.pid)
        after = _errors_logged()
        return {
            "clients": len(sockets),
            "group_members_before": members,
            "group_members_left": _group_members(),
            "server_errors": {k: after.get(k, 0) - errors.get(k, 0) for k in after},
            "server_redis_connections_after": self.connections(),
        }

    async def _received(self, count: int, timeout: float) -> list[tuple[Socket, float]]:
        """Up to ``count`` messages (socket, arrival), waiting at most ``timeout`` s in all."""
        deadline = time.monotonic() + timeout
        arrivals: list[tuple[Socket, float]] = []
        while len(arrivals) < count:
            left = deadline - time.monotonic()
            if left <= 0:
                break
            try:
                socket, at, _ = await asyncio.wait_for(self.inbox.get(), left)
            except TimeoutError:
                break
            arrivals.append((socket, at))
        return arrivals


# --- The summary -----------------------------------------------------------------------------


def print_report(r: dict[str, Any]) -> None:
    m, f = r["memory"], r["floor"]
    print("\nnotifications: one uvicorn worker, the bench's Redis")
    print(f"1. idle streams (opened {r['open_concurrency']} at a time), server process")
    print(
        f"{'streams':>8} {'RSS KiB':>9} {'KiB/stream':>11} {'added ones':>11} {'threads':>8} "
        f"{'Redis conns':>12} {'opened/s':>9}"
    )
    for row in m["rows"]:
        print(
            f"{row['streams']:8} {row['rss_kib']:9} {row.get('kib_per_stream', '-'):>11} "
            f"{row.get('kib_per_stream_added', '-'):>11} {row['threads']:8} "
            f"{row['server_redis_connections']:12} {row.get('opened_per_s', '-'):>9}"
        )
    print("2. delivery latency, append to the client's data line (ms)")
    print(f"{'':34} {'p50':>8} {'p99':>8} {'max':>8} {'n':>6} {'per s':>7}")
    rows = (
        ("floor: redis.asyncio pub/sub", f["pubsub"]),
        ("floor: redis.asyncio XREAD BLOCK", f["xread_block"]),
        ("1 subscriber", r["single"]),
        ("floor: pub/sub burst", f["pubsub_burst"]),
        (f"burst, {r['burst']['subscribers']} subscribers", r["burst"]),
    )
    for name, x in rows:
        print(
            f"{name:34} {x['p50_ms']:8.2f} {x['p99_ms']:8.2f} {x['max_ms']:8.2f} {x['n']:6} "
            f"{x.get('per_second', ''):>7}"
        )
    b, s = r["burst"], r["restart"]
    print(
        f"   1 subscriber p50 {s_ratio(r['single'], f['pubsub'])}× the pub/sub floor; burst "
        f"p99 {s_ratio(b, f['pubsub_burst'], 'p99_ms')}× the floor's, "
        f"{b['appended_per_second']} appends/s; p99 per burst {b['p99_ms_per_burst']} (after "
        f"closing the other streams the server took {r['burst_settled_s']} s to be idle)"
    )
    print(
        f"3. Redis restart under {s['streams']} streams ({s['users']} users, "
        f"{s['reconnected']} reconnected with Last-Event-ID): {s['appended_before']} appended "
        f"before, {s['appended_after']} after; lost {s['lost']}, duplicated {s['duplicated']} "
        f"of {s['expected_deliveries']}; Redis down {s['redis_down_s']} s; first delivery "
        f"{s['first_delivery_after_restart_ms']} ms after it answered, all "
        f"{s['all_delivered_after_restart_ms']} ms; server's Redis connections "
        f"{s['server_redis_connections_before']} → {s['server_redis_connections_after']}"
    )
    if "wsgi" in r:
        w = r["wsgi"]
        print(
            f"4. WSGI fallback (gunicorn, a thread per stream): {w['streams']} streams, server's "
            f"Redis connections {w['server_redis_connections_at_0']} → "
            f"{w['server_redis_connections']} ({w['connections_per_stream']} per stream); one "
            f"notification each: p50 {w['burst']['p50_ms']} ms, p99 {w['burst']['p99_ms']} ms"
        )
    if "channels" in r:
        _print_channels(r)


def _print_channels(r: dict[str, Any]) -> None:
    c = r["channels"]
    if "skipped" in c:
        print(f"5. anchor: channels_redis group send over WebSockets: skipped ({c['skipped']})")
        return
    print(
        "5. anchor: channels_redis group send over WebSockets (uvicorn bench.channels_app, one "
        f"worker; {', '.join(f'{k} {v}' for k, v in c.get('versions', {}).items())}; no auth, "
        f"no replay; negotiated: {', '.join(repr(e) for e in c['extensions']) or 'none'})"
    )
    print(
        f"{'clients':>8} {'RSS KiB':>9} {'KiB/client':>11} {'added ones':>11} {'threads':>8} "
        f"{'Redis conns':>12} {'opened/s':>9}"
    )
    for row in c["memory"]["rows"]:
        print(
            f"{row['clients']:8} {row['rss_kib']:9} {row.get('kib_per_client', '-'):>11} "
            f"{row.get('kib_per_client_added', '-'):>11} {row['threads']:8} "
            f"{row['server_redis_connections']:12} {row.get('opened_per_s', '-'):>9}"
        )
    print(
        f"{'group_send to the client (ms)':34} {'p50':>8} {'p99':>8} {'max':>8} {'n':>6} "
        f"{'per s':>7}"
    )
    b, m = c["burst"], c["missed"]
    for name, x in (
        ("1 subscriber", c["single"]),
        (f"burst, {b['subscribers']} groups of 1", b),
    ):
        print(
            f"{name:34} {x['p50_ms']:8.2f} {x['p99_ms']:8.2f} {x['max_ms']:8.2f} {x['n']:6} "
            f"{x.get('per_second', ''):>7}"
        )
    sse_rows, rows = r["memory"]["rows"], c["memory"]["rows"]
    print(
        f"   vs SSE: KiB per idle client at {rows[-1]['clients']} {rows[-1]['kib_per_client']} "
        f"vs {sse_rows[-1]['kib_per_stream']}; server's Redis connections "
        f"{rows[-1]['server_redis_connections']} vs {sse_rows[-1]['server_redis_connections']}; "
        f"1 subscriber p50 {s_ratio(c['single'], r['single'])}× SSE's; burst p99 "
        f"{s_ratio(b, r['burst'], 'p99_ms')}× SSE's, {b['group_sends_per_second']} group "
        f"sends/s; p99 per burst {b['p99_ms_per_burst']}; not delivered per burst "
        f"{b['not_delivered_per_burst']} (dropped by the layer, over capacity: "
        f"{b['over_capacity_per_burst']}); server's Redis connections after the burst "
        f"{b['server_redis_connections_after']}, at the end {c['server_redis_connections_at_end']}"
    )
    print(
        f"   missed while disconnected: {m['clients']} clients closed, "
        f"{m['sent_while_disconnected']} group_sent to their groups, reopened: "
        f"{m['received_after_reconnect']} of {m['sent_while_disconnected']} received (sent "
        f"after reopening: {m['received_sent_after_reconnect']} of {m['clients']})"
    )
    x, members = c["mass_close"], [row["group_members"] for row in rows]
    print(
        f"   group members in Redis per row {members}, before the burst "
        f"{c['burst_group_members']} (closes {r['open_concurrency']} at a time); "
        f"{x['clients']} gone at once: group members {x['group_members_before']} → "
        f"{x['group_members_left']} left, server errors {x['server_errors']}, server's Redis "
        f"connections after {x['server_redis_connections_after']}; all the run's server "
        f"errors {c['server_errors']} ({c['server_errors_before_burst']} before the burst), "
        f"sockets the server closed (by close code) {c['closed_by_server']}, group sends over "
        f"capacity {c['over_capacity']}"
    )


def s_ratio(x: dict[str, Any], floor: dict[str, Any], key: str = "p50_ms") -> float:
    return round(x[key] / floor[key], 1) if floor[key] else 0.0


if __name__ == "__main__":
    main()
