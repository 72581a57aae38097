"""The session engine's async methods on redis.asyncio (``SessionStore`` mixes them in).

``aload``, ``aexists`` and ``asave`` of a session that keeps its owner, with the "last seen"
write, are what an async view's ``request.auser()`` and a session it changes need: the
same scripts and errors as the sync methods, without a thread. ``asave`` of a new session or
of one changing hands (``alogin``, ``acycle_key``) runs ``save`` in a thread, as
``SessionBase``'s other async methods do: those also prune and revoke across the owner's
session list, a few round trips once per sign-in.
"""

from __future__ import annotations

import copy
from typing import Any, cast

from asgiref.sync import sync_to_async
from django.contrib.auth import SESSION_KEY as USER_ID_KEY
from django.contrib.sessions.backends.base import SessionBase, UpdateError
from redis import RedisError

from project.redis.aclient import get_async_client
from sessions import keys, scripts, services
from sessions.backends.failures import now_ms, succeeded, unavailable


class NativeAsync(SessionBase):
    """The async half of ``SessionStore``, which provides what is declared here."""

    client_ip: str
    user_agent: str
    _loaded: dict[str, Any] | None
    _owner: str
    _last_seen: int

    def _accept(self, fields: list[bytes | None]) -> dict[str, Any]:
        raise NotImplementedError

    def _touch_due(self) -> bool:
        raise NotImplementedError

    async def aload(self) -> dict[str, Any]:
        """``load`` on redis.asyncio (Django's default runs the sync one in a thread); the
        rare "last seen" write, at most once a minute per session, still does."""
        key = keys.session(cast(str, self.session_key))
        try:
            fields = await get_async_client().hmget(key, ["d", "u", "s"])
        except RedisError as exc:
            raise unavailable("load", exc) from exc
        succeeded("load")
        data = self._accept(cast("list[bytes | None]", fields))
        if data and self._touch_due():
            await self._atouch(key, data)
        return data

    async def aexists(self, session_key: str) -> bool:
        try:
            found = bool(await get_async_client().exists(keys.session(session_key)))
        except RedisError as exc:
            raise unavailable("exists", exc) from exc
        succeeded("exists")
        return found

    async def asave(self, must_create: bool = False) -> None:
        """``save`` on redis.asyncio for a session that exists and keeps its owner: what a
        request does to it (a change, or a TTL refresh with ``SESSION_SAVE_EVERY_REQUEST``).
        A new session or a new owner goes to ``save`` in a thread (see the module's doc)."""
        if self.session_key is None or must_create:
            return await sync_to_async(self.save)(must_create)
        data = await self._aget_session()  # type: ignore[attr-defined]  # as save()'s
        user_id = str(data.get(USER_ID_KEY, ""))
        if user_id != self._owner:
            return await sync_to_async(self.save)()
        age = self.get_expiry_age()  # the data is loaded: no I/O
        if age <= 0:
            return await self.adelete()
        key = keys.session(self.session_key)
        client = get_async_client()
        try:
            if data == self._loaded:  # unchanged: only the TTLs (two round trips, not one)
                saved = bool(await client.expire(key, age))
            else:
                encoded = self.encode(data)
                saved = await scripts.aupdate(client, key, data=encoded, ttl=age, user_id=user_id)
            if saved and user_id:
                await self._akeep_indexed(client, user_id, age)
        except RedisError as exc:
            raise unavailable("update", exc) from exc
        succeeded("update")
        if not saved:
            raise UpdateError  # gone (logged out elsewhere): stay gone
        self._loaded = copy.deepcopy(data)
        return None

    async def _atouch(self, key: str, data: dict[str, Any]) -> None:
        """``_touch_if_due`` on redis.asyncio."""
        now = now_ms()
        client = get_async_client()
        try:
            if await scripts.atouch(client, key, now_ms=now):
                age = self.get_expiry_age(expiry=data.get("_session_expiry"))
                await self._akeep_indexed(client, self._owner, age)
        except RedisError as exc:
            raise unavailable("touch", exc) from exc
        succeeded("touch")
        self._last_seen = now

    async def _akeep_indexed(self, client: Any, user_id: str, age: int) -> None:
        assert self.session_key is not None
        await services.akeep_indexed(
            client, user_id=user_id, session_key=self.session_key, ip=self.client_ip,
            user_agent=self.user_agent, ttl=age,
        )  # fmt: skip
