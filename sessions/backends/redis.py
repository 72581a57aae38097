"""A Django session engine on Redis: ``SESSION_ENGINE = "sessions.backends.redis"``.

What it keeps of Django's contract that the ``cache`` backend and django-redis-sessions
break (docs/sessions.md):

- **create** is atomic (``create.lua``: only if the key is free, else ``CreateError``);
- a **save** writes only a session that still exists (``update.lua``, else
  ``UpdateError``), so a save racing a logout cannot resurrect it (ticket #21608);
- a save whose data **did not change** only refreshes the TTL (``EXPIRE``), so with
  ``SESSION_SAVE_EVERY_REQUEST`` a slow request cannot write its stale snapshot over a
  concurrent change;
- ``get_expiry_age() <= 0`` deletes (``EXPIRE 0`` is no error, but ``SET EX 0`` is);
- ``load()`` of an unknown, expired or tampered key returns ``{}``, forgets the key
  (no fixation) and writes nothing;
- data is Django's signed encoding with ``SESSION_SERIALIZER`` (JSON), never pickle;
- a Redis error raises :class:`SessionUnavailableError`, which the middleware turns into a
  503 with the cookie untouched: a blip never logs anyone out (django-redis-sessions#60).

``aload``, ``aexists`` and ``asave`` run on redis.asyncio (``native_async.py``).
Authenticated sessions are listed in a per-user index (``sessions.services``).
"""

from __future__ import annotations

import copy
import logging
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any, cast

from django.conf import settings
from django.contrib.auth import SESSION_KEY as USER_ID_KEY
from django.contrib.sessions.backends.base import (
    VALID_KEY_CHARS,
    CreateError,
    UpdateError,
)
from django.core import signing
from django.utils.crypto import get_random_string
from redis import Redis, RedisError
from redis.client import Pipeline

from project.redis.client import get_client
from project.redis.scripts import batch
from sessions import keys, scripts, services
from sessions.backends.failures import SessionUnavailableError, now_ms, succeeded, unavailable
from sessions.backends.native_async import NativeAsync

__all__ = ["SessionStore", "SessionUnavailableError"]

logger = logging.getLogger("sessions")


class SessionStore(NativeAsync):
    # Metadata for the user's session list, set by sessions.middleware per request.
    client_ip: str = ""
    user_agent: str = ""

    def __init__(self, session_key: str | None = None) -> None:
        super().__init__(session_key)
        self._loaded: dict[str, Any] | None = None  # the data as loaded, to spot no-op saves
        self._owner = ""  # the user id this session is indexed under
        self._last_seen = 0

    @staticmethod
    @contextmanager
    def _redis(operation: str) -> Iterator[Redis]:
        """The client, for one operation; a Redis error becomes SessionUnavailableError."""
        try:
            yield get_client()
        except RedisError as exc:
            raise unavailable(operation, exc) from exc
        succeeded(operation)

    # --- The SessionBase contract -----------------------------------------------------

    def load(self) -> dict[str, Any]:
        # SessionBase loads only with a key: _get_session() starts from {} without one.
        key = keys.session(cast(str, self.session_key))
        with self._redis("load") as client:
            fields = cast("list[bytes | None]", client.hmget(key, ["d", "u", "s"]))
        data = self._accept(fields)
        if data:
            self._touch_if_due(key, data)
        return data

    def _accept(self, fields: list[bytes | None]) -> dict[str, Any]:
        """The session's data from its hash's d (signed data), u (owner) and s (last
        seen): bytes (no decode_responses), or None for a field the hash lacks."""
        raw, owner, last_seen = fields
        data = self._decode(raw) if raw is not None else None
        if data is None:
            # Unknown, expired or tampered: start afresh under a new key, write nothing.
            self._session_key = None
            return {}
        self._loaded = copy.deepcopy(data)
        self._owner = (owner or b"").decode()
        self._last_seen = int(last_seen or 0)
        return data

    def exists(self, session_key: str) -> bool:
        with self._redis("exists") as client:
            return bool(client.exists(keys.session(session_key)))

    def create(self) -> None:
        while True:
            self._session_key = self._get_new_session_key()
            try:
                self.save(must_create=True)
            except CreateError:
                continue  # a collision with a live key: draw another
            self.modified = True
            return

    def save(self, must_create: bool = False) -> None:
        if self.session_key is None:
            return self.create()
        # SessionBase._get_session is Django's (what save() of its own backends calls),
        # but django-stubs leave it out.
        data = self._get_session(no_load=must_create)  # type: ignore[attr-defined]
        age = self.get_expiry_age()
        if age <= 0:
            self.delete()
            return None
        key = keys.session(self.session_key)
        user_id = str(data.get(USER_ID_KEY, ""))
        if must_create:
            with self._redis("create") as client:
                created = scripts.create(
                    client, key, data=self.encode(data), ttl=age, now_ms=now_ms(), user_id=user_id
                )
            if not created:
                raise CreateError
        elif data == self._loaded and user_id == self._owner:
            with self._redis("expire") as client:
                # Its index must outlive it: one round trip for both (one by one on a
                # Cluster). If the session is gone, that leaves a dead entry, which every
                # read of the index prunes.
                pipe = batch(client)
                expired = pipe.expire(key, age)
                if user_id:
                    self._keep_indexed(pipe, user_id, age)
                if isinstance(pipe, Pipeline):
                    expired = pipe.execute()[0]
                if not expired:
                    raise UpdateError  # gone (logged out elsewhere): stay gone
        else:
            with self._redis("update") as client:
                updated = scripts.update(
                    client, key, data=self.encode(data), ttl=age, user_id=user_id
                )
                if updated and user_id == self._owner and user_id:
                    self._keep_indexed(client, user_id, age)
            if not updated:
                raise UpdateError
        if must_create or user_id != self._owner:
            self._reindex(self.session_key, user_id, age, new_key=must_create)
        self._loaded = copy.deepcopy(data)
        return None

    def delete(self, session_key: str | None = None) -> None:
        if session_key is None:
            if self.session_key is None:
                return
            session_key = self.session_key
        with self._redis("delete") as client:
            services.delete_session(session_key, client=client)
        if session_key == self.session_key:
            self._owner = ""

    @classmethod
    def clear_expired(cls) -> None:
        """Nothing to do: Redis expires sessions itself."""

    def _get_new_session_key(self) -> str:
        # No EXISTS probe: create.lua refuses a taken key and create() draws again.
        return get_random_string(32, VALID_KEY_CHARS)

    # --- Helpers ----------------------------------------------------------------------

    def _decode(self, raw: bytes) -> dict[str, Any] | None:
        try:
            return signing.loads(raw.decode(), salt=self.key_salt, serializer=self.serializer)
        except (signing.BadSignature, ValueError):
            logger.warning("session: refused a tampered or undecodable session")
            return None

    def _touch_due(self) -> bool:
        interval = settings.SESSION_LAST_SEEN_INTERVAL * 1000
        return bool(self._owner) and now_ms() - self._last_seen >= interval

    def _touch_if_due(self, key: str, data: dict[str, Any]) -> None:
        """Record last-seen at most once per SESSION_LAST_SEEN_INTERVAL (not per request)."""
        now = now_ms()
        if self._touch_due():
            with self._redis("touch") as client:
                # Now and then, an index lost to eviction gets this live session back.
                if scripts.touch(client, key, now_ms=now):
                    # Mid-load: the expiry comes from the data, not from self.
                    age = self.get_expiry_age(expiry=data.get("_session_expiry"))
                    self._keep_indexed(client, self._owner, age)
            self._last_seen = now

    def _keep_indexed(self, client: Any, user_id: str, age: int) -> None:
        assert self.session_key is not None
        services.keep_indexed(
            client, user_id=user_id, session_key=self.session_key, ip=self.client_ip,
            user_agent=self.user_agent, ttl=age,
        )  # fmt: skip

    def _reindex(self, session_key: str, user_id: str, age: int, *, new_key: bool) -> None:
        """Keep the owner's index in step: a new key (cycle_key) or a new owner (login)."""
        with self._redis("index") as client:
            if self._owner and not new_key:  # signed in as someone else: leave their list
                services.unindex(user_id=self._owner, session_key=session_key, client=client)
            if user_id:
                services.index(
                    user_id=user_id, session_key=session_key, ip=self.client_ip,
                    user_agent=self.user_agent, ttl=age, client=client,
                )  # fmt: skip
        self._owner = user_id
