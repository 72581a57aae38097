"""Start and stop the Redis topologies the test legs run against, on loopback ports.

    python scripts/topology.py cluster start    # 3 primaries on 7100-7102, prints REDIS_URL
    python scripts/topology.py sentinel start   # primary 6390, replica 6391, sentinel 26390
    python scripts/topology.py {cluster,sentinel} stop
    python scripts/topology.py sentinel failover   # force one, wait for the new primary

Everything lives under var/topology/<kind>/ and is stopped by ``stop`` (``make
test-cluster``/``test-sentinel`` always call it). Uses redis-server and redis-cli from
PATH (or $REDIS_SERVER and the redis-cli beside it).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

ROOT = Path(__file__).resolve().parent.parent
CLUSTER_PORTS = (7100, 7101, 7102)
PRIMARY, REPLICA, SENTINEL = 6390, 6391, 26390
SERVICE = "mymaster"


def binaries() -> tuple[str, str]:
    server = os.environ.get("REDIS_SERVER") or shutil.which("redis-server")
    if not server:
        sys.exit("redis-server not found (install Redis or set REDIS_SERVER)")
    cli = shutil.which("redis-cli") or str(Path(server).with_name("redis-cli"))
    return server, cli


def directory(kind: str) -> Path:
    path = ROOT / "var" / "topology" / kind
    path.mkdir(parents=True, exist_ok=True)
    return path


def start_server(port: int, workdir: Path, *extra: str) -> None:
    server, _ = binaries()
    workdir.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [server, "--port", str(port), "--bind", "127.0.0.1", "--daemonize", "yes",
         "--dir", str(workdir), "--logfile", str(workdir / "redis.log"),
         "--pidfile", str(workdir / "redis.pid"), "--save", "", "--appendonly", "no", *extra],
        check=True,
    )  # fmt: skip
    wait_for(port)


def wait_for(port: int, timeout: float = 10) -> None:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if redis.Redis(port=port, socket_timeout=0.5).ping():
                return
        except redis.RedisError:
            time.sleep(0.05)
    sys.exit(f"redis on port {port} did not come up")


def shutdown(port: int) -> None:
    # Not running, or the server closed the connection as it shut down: both fine.
    # No retries: redis-py's default would reconnect, with backoff, to a server gone.
    with contextlib.suppress(redis.RedisError):
        conn = redis.Redis(port=port, socket_timeout=2, retry=Retry(NoBackoff(), 0))
        conn.shutdown(nosave=True, now=True)


def cluster_start() -> str:
    base = directory("cluster")
    for port in CLUSTER_PORTS:
        start_server(
            port, base / str(port), "--cluster-enabled", "yes",
            "--cluster-config-file", "nodes.conf", "--cluster-node-timeout", "2000",
        )  # fmt: skip
    _, cli = binaries()
    subprocess.run(
        [cli, "--cluster", "create", *(f"127.0.0.1:{p}" for p in CLUSTER_PORTS),
         "--cluster-replicas", "0", "--cluster-yes"],
        check=True, capture_output=True,
    )  # fmt: skip
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:  # wait until every node agrees the cluster is ok
        infos = [redis.Redis(port=p).cluster("info") for p in CLUSTER_PORTS]
        if all(info.get("cluster_state") == "ok" for info in infos):
            break
        time.sleep(0.1)
    else:
        sys.exit("the cluster did not become ok")
    return "redis+cluster://" + ",".join(f"127.0.0.1:{p}" for p in CLUSTER_PORTS)


def cluster_stop() -> None:
    for port in CLUSTER_PORTS:
        shutdown(port)
    shutil.rmtree(directory("cluster"), ignore_errors=True)


def sentinel_start() -> str:
    base = directory("sentinel")
    start_server(PRIMARY, base / "primary")
    start_server(REPLICA, base / "replica", "--replicaof", "127.0.0.1", str(PRIMARY))
    conf = base / "sentinel.conf"
    conf.write_text(
        f"port {SENTINEL}\nbind 127.0.0.1\ndaemonize yes\n"
        f"logfile {base / 'sentinel.log'}\npidfile {base / 'sentinel.pid'}\n"
        f"sentinel monitor {SERVICE} 127.0.0.1 {PRIMARY} 1\n"
        f"sentinel down-after-milliseconds {SERVICE} 1000\n"
        f"sentinel failover-timeout {SERVICE} 5000\n"
    )
    server, _ = binaries()
    subprocess.run([server, str(conf), "--sentinel"], check=True)
    wait_for(SENTINEL)
    sentinel_settled(timeout=20)
    return f"redis+sentinel://127.0.0.1:{SENTINEL}/{SERVICE}/0"


def sentinel_settled(timeout: float = 30) -> None:
    """Wait until the node the sentinel does not name primary is its replica, in sync.

    After a failover the old primary takes writes until the sentinel turns it into a replica,
    then drops them in its full resync: whatever runs next must wait for that.
    """
    sentinel = redis.Redis(port=SENTINEL)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        primary = primary_address(sentinel)
        if primary:
            other = REPLICA if primary[1] == PRIMARY else PRIMARY
            info = redis.Redis(port=other).info("replication")
            if (
                info.get("role") == "slave"
                and int(info.get("master_port", 0)) == primary[1]
                and info.get("master_link_status") == "up"
                and sentinel.sentinel_slaves(SERVICE)
            ):
                return
        time.sleep(0.1)
    sys.exit("the replica or the sentinel did not settle within the timeout")


def sentinel_stop() -> None:
    for port in (SENTINEL, REPLICA, PRIMARY):
        shutdown(port)
    shutil.rmtree(directory("sentinel"), ignore_errors=True)


def primary_address(sentinel: redis.Redis) -> tuple[str, int] | None:
    """The (host, port) the sentinel names for SERVICE, or None while it names none."""
    reply = sentinel.sentinel_get_master_addr_by_name(SERVICE)
    if not isinstance(reply, tuple):  # None; the stubs' bool is for Sentinel(), not a client
        return None
    host, port = reply  # the host as bytes: no decode_responses
    return (host.decode() if isinstance(host, bytes) else host), int(port)


def sentinel_failover(timeout: float = 30) -> tuple[str, int]:
    """Force a failover and wait until the sentinel names a new, writable primary."""
    sentinel = redis.Redis(port=SENTINEL)
    before = primary_address(sentinel)
    sentinel.execute_command("SENTINEL", "FAILOVER", SERVICE)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        after = primary_address(sentinel)
        if after and after != before:
            host, port = after
            if redis.Redis(host=host, port=port).info("replication")["role"] == "master":
                return host, port
        time.sleep(0.05)
    sys.exit("no failover within the timeout")


def main(argv: list[str]) -> int:
    if len(argv) != 2 or argv[0] not in {"cluster", "sentinel"}:
        print(__doc__, file=sys.stderr)
        return 2
    kind, action = argv
    if action == "start":
        (cluster_stop if kind == "cluster" else sentinel_stop)()  # leftovers of a killed run
        print(cluster_start() if kind == "cluster" else sentinel_start())
    elif action == "stop":
        (cluster_stop if kind == "cluster" else sentinel_stop)()
    elif action == "failover" and kind == "sentinel":
        host, port = sentinel_failover()
        print(f"new primary {host}:{port}")
    else:
        print(__doc__, file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
