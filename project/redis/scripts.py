"""The one way to run Lua: a script lives in a ``.lua`` file beside the module that wraps it.

Each app's ``scripts.py`` loads its files with :func:`load` and gives each one a typed
wrapper; nothing else calls a script. A script runs by ``EVALSHA``; redis-py loads it again
and retries once on ``NOSCRIPT`` (a restarted or failed-over server), and queues it when the
client is a pipeline (the reply then comes with the pipeline's). ``acall`` does the same on a
redis.asyncio client.
"""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from pathlib import Path
from typing import Any

import redis.asyncio
from redis import Redis
from redis.client import Pipeline
from redis.cluster import RedisCluster
from redis.commands.core import Script
from redis.exceptions import NoScriptError

Arg = str | int | float | bytes


class LuaScript:
    """A Lua file, read once per process."""

    def __init__(self, path: Path) -> None:
        self.path = path
        # Bytes: the SHA is computed here, without needing a client's encoder.
        self._script = Script(None, path.read_bytes())  # type: ignore[arg-type]

    def __call__(
        self, client: Redis | Pipeline, *, keys: Sequence[str], args: Sequence[Arg]
    ) -> Any:
        return self._script(keys=list(keys), args=list(args), client=client)

    async def acall(
        self, client: redis.asyncio.Redis, *, keys: Sequence[str], args: Sequence[Arg]
    ) -> Any:
        """The same on redis.asyncio: ``EVALSHA``, and on ``NOSCRIPT`` a load and one retry."""
        try:
            return await client.evalsha(self._script.sha, len(keys), *keys, *args)
        except NoScriptError:
            await client.script_load(self._script.script)
            return await client.evalsha(self._script.sha, len(keys), *keys, *args)

    def __repr__(self) -> str:
        return f"LuaScript({self.path.name})"


@cache
def load(module_file: str, name: str) -> LuaScript:
    """The script ``lua/<name>.lua`` next to ``module_file`` (pass ``__file__``)."""
    return LuaScript(Path(module_file).resolve().parent / "lua" / f"{name}.lua")


def compare_and_delete(client: Redis, key: str, token: str) -> bool:
    """Delete ``key`` only if it still holds ``token``: release a lock or a lease without
    removing the next holder's (a plain ``DEL`` removes whoever holds it)."""
    return bool(load(__file__, "compare_and_delete")(client, keys=[key], args=[token]))


def batch(client: Redis) -> Redis | Pipeline:
    """A pipeline for a batch of commands that includes scripts; on a Cluster the client
    itself (a cluster pipeline refuses EVALSHA), so they run one by one, each touching
    one slot. The caller runs ``execute()`` only on a ``Pipeline``."""
    return client if isinstance(client, RedisCluster) else client.pipeline(transaction=False)
