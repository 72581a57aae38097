"""The async path is native: an async view's session and user are read on redis.asyncio,
not by their sync twins in a thread; a miss still works (in a thread); Redis down is the
same SessionUnavailableError as on the sync path; async connections notice a Redis that
restarted from an older snapshot, as sync ones do."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, NoReturn

import pytest
from django.contrib.auth import SESSION_KEY
from django.contrib.sessions.backends.base import UpdateError
from django.test import override_settings

from caching.services import CacheService
from project.redis import aclient, config
from project.redis.epoch import losses
from sessions import keys as sessions_keys
from sessions.backends.redis import SessionStore, SessionUnavailableError
from tests.clients import BrowserClient
from tests.own_redis import SnapshotRedis
from users.backends import CachedModelBackend
from users.cache import cached_users
from users.models import User

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def refuse(*args: Any, **kwargs: Any) -> NoReturn:
    raise AssertionError("the sync twin ran")


def test_aload_reads_the_session_on_redis_asyncio(
    make_user: Callable[..., User], api: BrowserClient, monkeypatch: pytest.MonkeyPatch
) -> None:
    user = make_user(username="async")
    api.sign_in("async")
    key = api.cookies["sessionid"].value
    monkeypatch.setattr(SessionStore, "load", refuse)
    monkeypatch.setattr(SessionStore, "exists", refuse)
    store = SessionStore(key)
    assert asyncio.run(store.aget(SESSION_KEY)) == str(user.pk)
    assert asyncio.run(store.aexists(key)) is True
    assert asyncio.run(SessionStore("nosuchkey").aload()) == {}


def test_asave_writes_a_change_on_redis_asyncio(
    make_user: Callable[..., User], api: BrowserClient, monkeypatch: pytest.MonkeyPatch,
    redis_client: Any,
) -> None:  # fmt: skip
    make_user(username="saver")
    api.sign_in("saver")
    key = api.cookies["sessionid"].value
    for name in ("load", "save", "_touch_if_due"):
        monkeypatch.setattr(SessionStore, name, refuse)

    async def change_and_save(value: str, *, expiry: int | None = None) -> None:
        store = SessionStore(key)
        await store.aset("colour", value)
        if expiry is not None:
            await store.aset_expiry(expiry)
        await store.asave()

    redis_client.script_flush()  # as after a restart: NOSCRIPT, loaded, run again
    asyncio.run(change_and_save("green"))
    asyncio.run(change_and_save("green", expiry=90))  # an unchanged save refreshes the TTL
    assert 80 < redis_client.ttl(sessions_keys.session(key)) <= 90
    monkeypatch.undo()
    assert SessionStore(key).load()["colour"] == "green"
    # The owner's session list lives as long as its longest session.
    index_ttl = redis_client.ttl(sessions_keys.index(str(User.objects.get(username="saver").pk)))
    assert index_ttl > 80


def test_asave_of_a_session_logged_out_meanwhile_does_not_bring_it_back(
    make_user: Callable[..., User], api: BrowserClient
) -> None:
    make_user(username="gone")
    api.sign_in("gone")
    key = api.cookies["sessionid"].value
    store = SessionStore(key)
    assert asyncio.run(store.aget(SESSION_KEY))  # loaded
    SessionStore(key).delete()  # a logout elsewhere, after this request loaded it
    asyncio.run(store.aset("colour", "red"))
    with pytest.raises(UpdateError):
        asyncio.run(store.asave())
    assert not SessionStore(key).exists(key)


def test_last_seen_is_written_on_redis_asyncio(
    make_user: Callable[..., User], api: BrowserClient, monkeypatch: pytest.MonkeyPatch,
    redis_client: Any, settings: Any,
) -> None:  # fmt: skip
    make_user(username="seen")
    api.sign_in("seen")
    key = api.cookies["sessionid"].value
    before = int(redis_client.hget(sessions_keys.session(key), "s"))
    settings.SESSION_LAST_SEEN_INTERVAL = 0
    monkeypatch.setattr(SessionStore, "_touch_if_due", refuse)
    assert asyncio.run(SessionStore(key).aload())
    assert int(redis_client.hget(sessions_keys.session(key), "s")) > before


def test_a_new_session_is_created_by_asave(api: BrowserClient) -> None:
    store = SessionStore()
    asyncio.run(store.aset("colour", "blue"))
    asyncio.run(store.asave())  # no key yet: create(), in a thread
    assert store.session_key is not None
    assert SessionStore(store.session_key).load() == {"colour": "blue"}


def test_a_cached_user_is_served_without_the_sync_read(
    make_user: Callable[..., User], monkeypatch: pytest.MonkeyPatch
) -> None:
    user = make_user(username="cached")
    backend = CachedModelBackend()
    # A miss goes to the sync read in a thread, which fills the cache…
    first = asyncio.run(backend.aget_user(user.pk))
    assert first is not None
    assert first.username == "cached"
    assert cached_users.get(user.pk, "auth").status == "HIT"
    # …and a hit is read natively.
    monkeypatch.setattr(CacheService, "get", refuse)
    again = asyncio.run(backend.aget_user(user.pk))
    assert again is not None
    assert again.username == "cached"
    assert asyncio.run(backend.aget_user("not a pk")) is None


def test_redis_down_is_the_sync_paths_error(api: BrowserClient) -> None:
    dead = override_settings(REDIS_URL="unix:///nonexistent/redis.sock")
    with dead, pytest.raises(SessionUnavailableError):
        asyncio.run(SessionStore("whatever").aload())


def test_an_async_connection_notices_a_restart_from_a_snapshot(
    snapshot_server: SnapshotRedis,
) -> None:
    url = f"unix://{snapshot_server.server.socket_path}"
    sync = snapshot_server.client()
    sync.ping()
    losses.settle(sync, lambda: None)  # this run's data is adopted
    snapshot_server.snapshot()
    snapshot_server.crash_and_restart()

    async def connect() -> None:
        client = aclient._make(config.parse(url))
        await client.ping()
        await client.aclose()

    seen = losses.noticed
    asyncio.run(connect())
    assert (losses.noticed, losses.pending()) == (seen + 1, True)
    losses.settle(sync, lambda: None)
    asyncio.run(connect())  # adopted again: no news
    assert losses.noticed == seen + 1
