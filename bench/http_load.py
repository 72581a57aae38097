"""End to end over HTTP: gunicorn (2 and 4 workers) on loopback, loaded by wrk for a fixed
time per endpoint, with the cache on and off (CACHE_ENABLED), so the report shows what
Redis buys. PostgreSQL (persistent connections) when one listens on 127.0.0.1:5432.

    python bench/http_load.py [--seconds 20]          (make bench runs it)
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import urllib.request
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from bench.common import ROOT, configure, gunicorn, postgres_listening, wrk

PASSWORD = "correct-Horse-battery-9"
LOGIN_LUA = """
wrk.method = "POST"
wrk.body = '{"username": "benchlogin", "password": "%s"}'
wrk.headers["Content-Type"] = "application/json"
wrk.headers["Cookie"] = "csrftoken=%s"
wrk.headers["X-CSRFToken"] = "%s"
"""


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
    # Every check runs, none refuses: the throttle's cost is measured, not its limit.
    throttle = {
        "THROTTLE_RATES": "anon=100000000/min,user=100000000/min,login=100000000/min,"
        "login_account=100000000/min,register=100000000/min",
    }
    report: dict = {"database": db, "seconds": args.seconds, "runs": []}
    for workers in (2, 4):
        for cache in ("on", "off"):
            run_env = {**throttle, "CACHE_ENABLED": "1" if cache == "on" else "0"}
            with gunicorn(workers, run_env) as base:
                session, csrf = _sign_in(base)
                detail = f"{base}/api/users/{target.pk}/"
                login = LOGIN_LUA % (PASSWORD, csrf, csrf)
                for endpoint, url, cookie, lua in (
                    ("detail_anonymous", detail, "", ""),
                    ("detail_signed_in", detail, session, ""),
                    ("list", f"{base}/api/users/", "", ""),
                    ("login", f"{base}/api/auth/login/", "", login),
                ):
                    result = wrk(url, args.seconds, cookie=cookie, lua=lua)
                    report["runs"].append(
                        {"workers": workers, "cache": cache, "endpoint": endpoint, **result}
                    )
                    print(workers, cache, endpoint, result, flush=True)
    out = ROOT / "bench" / "out"
    out.mkdir(parents=True, exist_ok=True)
    (out / "http.json").write_text(json.dumps(report, indent=2))


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
