"""The hot path's comparator: FastAPI + redis.asyncio doing the work of the app's anonymous
cached ``GET /api/users/{id}/``, the lean way, served by uvicorn beside it (bench/hot_path.py).

Per request, in ONE pipeline (one round trip):

- the sliding-window throttle: the project's own ``ratelimit/lua/sliding_window.lua`` by
  ``EVALSHA``, keyed by the client's IP, with the limit and window of the app's ``anon``
  scope (``HOT_LIMIT``, ``HOT_WINDOW_S``);
- the cached record: ``GET`` of the stored JSON (bench/hot_path.py stores the app's record of
  the user, email included, at ``<prefix>:user:<id>``), ``json.loads``, the email removed;
- the view count: ``HINCRBY`` on a hash, added to the record's ``profile_views`` as the app
  shows pending views.

``/separate/users/{id}/`` does the same with three awaits (three round trips); ``/const/`` is
FastAPI's own floor. Responses are ``JSONResponse`` (no response model to validate): the
lean way. A refused request is a 429 with ``Retry-After``; a missing record a 404 (the
comparator has no miss path: the bench stores the record first).

    HOT_REDIS_URL=unix:///.../redis.sock uvicorn bench.hot_fastapi:app --workers 2
"""

from __future__ import annotations

import json
import math
import os
import secrets
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import redis.asyncio as aioredis
from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

from bench.hot_record import RECORD

ROOT = Path(__file__).resolve().parent.parent
SCRIPT = (ROOT / "ratelimit" / "lua" / "sliding_window.lua").read_text()
PREFIX = os.environ.get("HOT_PREFIX", "bench:hot:fastapi")
LIMIT = int(os.environ.get("HOT_LIMIT", "100"))
WINDOW_US = int(float(os.environ.get("HOT_WINDOW_S", "60")) * 1_000_000)
VIEWS = f"{PREFIX}:views"
CONSTANT = RECORD  # the Django floors render the same body


class State:
    client: aioredis.Redis
    sha: str


state = State()


@asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    state.client = aioredis.Redis.from_url(os.environ["HOT_REDIS_URL"])
    state.sha = await state.client.script_load(SCRIPT)
    yield
    await state.client.aclose()


app = FastAPI(lifespan=lifespan, docs_url=None, redoc_url=None, openapi_url=None)


def _window(request: Request) -> str:
    host = request.client.host if request.client else "unknown"
    return f"{PREFIX}:ratelimit:{{anon:ip4-{host}}}"


def _answer(verdict: list[Any], raw: bytes | str | None, views: int) -> JSONResponse:
    admitted, remaining, reset_us = verdict
    headers = {
        "RateLimit-Policy": f'"anon";q={LIMIT};w={WINDOW_US // 1_000_000}',
        "RateLimit": f'"anon";r={remaining};t={math.ceil(max(reset_us, 0) / 1_000_000)}',
    }
    if not admitted:
        headers["Retry-After"] = str(math.ceil(max(reset_us, 0) / 1_000_000) or 1)
        return JSONResponse({"detail": "Request was throttled."}, 429, headers)
    if raw is None:
        return JSONResponse({"detail": "No user with this id."}, 404, headers)
    record = json.loads(raw)
    record.pop("email", None)  # the public's view
    record["profile_views"] += views
    return JSONResponse(record, headers={**headers, "X-Cache": "HIT"})


@app.get("/users/{user_id}/")
async def pipelined(user_id: int, request: Request) -> JSONResponse:
    pipe = state.client.pipeline(transaction=False)
    pipe.evalsha(state.sha, 1, _window(request), LIMIT, WINDOW_US, secrets.token_hex(8), 1)
    pipe.get(f"{PREFIX}:user:{user_id}")
    pipe.hincrby(VIEWS, f"{user_id}:v", 1)
    verdict, raw, views = await pipe.execute()
    return _answer(verdict, raw, views)


@app.get("/separate/users/{user_id}/")
async def separate(user_id: int, request: Request) -> JSONResponse:
    client = state.client
    key = _window(request)
    verdict = await client.evalsha(state.sha, 1, key, LIMIT, WINDOW_US, secrets.token_hex(8), 1)
    raw = await client.get(f"{PREFIX}:user:{user_id}")
    views = await client.hincrby(VIEWS, f"{user_id}:v", 1)
    return _answer(verdict, raw, views)


@app.get("/const/")
async def const() -> JSONResponse:
    return JSONResponse(CONSTANT)


@app.get("/api/health/")  # what bench.common.served() waits for
async def health() -> JSONResponse:
    await state.client.ping()
    return JSONResponse({"redis": "ok"})
