"""End to end over HTTP: gunicorn (2 and 4 workers) on loopback, loaded by wrk for a fixed
time per endpoint, with the cache on and off (CACHE_ENABLED), so the report shows what
Redis buys. PostgreSQL (persistent connections) when one listens on 127.0.0.1:5432.

    python bench/http_load.py [--seconds 20]          (make bench runs it)
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, configure, postgres_listening

PASSWORD = "correct-Horse-battery-9"
LOGIN_LUA = """
wrk.method = "POST"
wrk.body = '{"username": "benchlogin", "password": "%s"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Cookie"] = "csrftoken=%s"
wrk.headers["X-CSRFToken"] = "%s"
"""


def wrk(url: str, seconds: int, *, cookie: str = "", script: str = "") -> dict:
    args = ["wrk", "-t2", "-c16", f"-d{seconds}s", "--latency"]
    if cookie:
        args += ["-H", f"Cookie: {cookie}"]
    if script:
        args += ["-s", script]
    output = subprocess.run([*args, url], capture_output=True, text=True, check=True).stdout
    found = re.search(r"Requests/sec:\s+([\d.]+)", output)
    if found is None:
        raise RuntimeError(f"wrk printed no Requests/sec:\n{output}")
    rps = float(found.group(1))
    latency = dict(re.findall(r"^\s+(50|99)%\s+([\d.]+\w+)", output, re.MULTILINE))
    non_2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    return {
        "requests_per_second": rps,
        "p50": latency.get("50"),
        "p99": latency.get("99"),
        "non_2xx": int(non_2xx.group(1)) if non_2xx else 0,
    }


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--seconds", type=int, default=20)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.exit("wrk is not installed (make bench installs it with apt-get)")
    db = "postgres" if postgres_listening() else "sqlite"
    configure(db)
    import django

    django.setup()
    from django.core.management import call_command

    from users.models import User

    call_command("migrate", verbosity=0)
    User.objects.all().delete()
    User.objects.bulk_create(
        [User(username=f"h{i}", email=f"h{i}@example.com", password="!") for i in range(1000)]
    )
    target = User.objects.order_by("pk")[500]
    User.objects.create_user("benchlogin", "benchlogin@example.com", PASSWORD)
    env = {
        **os.environ,
        "DJANGO_ALLOWED_HOSTS": "127.0.0.1",
        "DJANGO_SECURE_COOKIES": "0",  # plain http on loopback
        "SERVER_TIMING": "0",
        # Every check runs, none refuses: the throttle's cost is measured, not its limit.
        "THROTTLE_RATES": "anon=100000000/min,user=100000000/min,login=100000000/min,"
        "login_account=100000000/min,register=100000000/min",
    }
    report: dict = {"database": db, "seconds": args.seconds, "runs": []}
    for workers in (2, 4):
        for cache in ("on", "off"):
            run_env = {**env, "CACHE_ENABLED": "1" if cache == "on" else "0"}
            server = subprocess.Popen(
                [str(Path(sys.executable).with_name("gunicorn")), "project.wsgi",
                 "--workers", str(workers), "--bind", "127.0.0.1:8765", "--log-level", "error"],
                cwd=ROOT, env=run_env,
            )  # fmt: skip
            try:
                base = "http://127.0.0.1:8765"
                _wait(base)
                session, csrf = _sign_in(base)
                script = Path(tempfile.mkstemp(suffix=".lua")[1])
                script.write_text(LOGIN_LUA % (PASSWORD, csrf, csrf))
                detail = f"{base}/api/users/{target.pk}/"
                for endpoint, kwargs in (
                    ("detail_anonymous", {"url": detail}),
                    ("detail_signed_in", {"url": detail, "cookie": session}),
                    ("list", {"url": f"{base}/api/users/"}),
                    ("login", {"url": f"{base}/api/auth/login/", "script": str(script)}),
                ):
                    result = wrk(kwargs.pop("url"), args.seconds, **kwargs)
                    report["runs"].append(
                        {"workers": workers, "cache": cache, "endpoint": endpoint, **result}
                    )
                    print(workers, cache, endpoint, result, flush=True)
            finally:
                server.terminate()
                server.wait(timeout=20)
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "http.json").write_text(json.dumps(report, indent=2))


def _wait(base: str) -> None:
    deadline = time.monotonic() + 30
    while True:
        try:
            urllib.request.urlopen(base + "/api/health/", timeout=1).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise
            time.sleep(0.2)


def _sign_in(base: str) -> tuple[str, str]:
    """A session cookie for the benchlogin user, and a CSRF token for the login script."""
    with urllib.request.urlopen(base + "/api/auth/csrf/") as response:
        csrf = json.loads(response.read())["csrfToken"]
        cookie = response.headers["Set-Cookie"].split(";")[0]
    request = urllib.request.Request(
        base + "/api/auth/login/",
        data=json.dumps({"username": "benchlogin", "password": PASSWORD}).encode(),
        headers={"Content-Type": "application/json", "Cookie": cookie, "X-CSRFToken": csrf},
        method="POST",
    )
    with urllib.request.urlopen(request) as response:
        session = next(
            value.split(";")[0]
            for name, value in response.headers.items()
            if name == "Set-Cookie" and value.startswith("sessionid=")
        )
    return session, cookie.split("=", 1)[1]


if __name__ == "__main__":
    main()
