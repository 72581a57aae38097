"""The SessionBase contract on the real Redis, sync and async, and the races it must win."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
import redis
from django.contrib.sessions.backends.base import CreateError, UpdateError
from django.contrib.sessions.serializers import JSONSerializer
from django.core import signing
from django.test import override_settings

from sessions import keys
from sessions.backends.redis import SessionStore

pytestmark = pytest.mark.redis

COUNTED: list[str] = []


class CountingSerializer(JSONSerializer):
    """Proves SESSION_SERIALIZER is honoured: every dumps goes through here."""

    def dumps(self, obj: object) -> bytes:
        COUNTED.append("dumps")
        return super().dumps(obj)


def stored(session_key: str, client: redis.Redis) -> dict:
    raw = client.hget(keys.session(session_key), "d")
    assert isinstance(raw, bytes)  # stored, and no decode_responses
    return signing.loads(raw.decode(), salt=SessionStore().key_salt, serializer=JSONSerializer)


def new_session(**data: object) -> SessionStore:
    session = SessionStore()
    session.update(data)
    session.save()
    return session


# --- create / save / load ------------------------------------------------------------


def test_create_draws_a_fresh_key_and_stores_nothing_more(redis_client: redis.Redis) -> None:
    session = SessionStore()
    session.create()
    assert session.session_key
    assert session.exists(session.session_key) is True
    assert redis_client.ttl(keys.session(session.session_key)) > 0


def test_create_refuses_a_key_in_use(redis_client: redis.Redis) -> None:
    first = new_session(a=1)
    assert first.session_key
    rival = SessionStore(first.session_key)
    # As if loaded: SessionBase keeps its data in _session_cache, which django-stubs omit.
    rival._session_cache = {"b": 2}  # type: ignore[attr-defined]
    with pytest.raises(CreateError):
        rival.save(must_create=True)
    assert stored(first.session_key, redis_client) == {"a": 1}


def test_save_and_load_round_trip_as_signed_json(redis_client: redis.Redis) -> None:
    session = new_session(cart=[1, 2], name="Zoë")
    assert session.session_key
    raw = redis_client.hget(keys.session(session.session_key), "d")
    assert isinstance(raw, bytes)
    assert not raw.startswith(b"\x80")  # not pickle
    assert stored(session.session_key, redis_client) == {"cart": [1, 2], "name": "Zoë"}
    assert SessionStore(session.session_key).load() == {"cart": [1, 2], "name": "Zoë"}


@override_settings(SESSION_SERIALIZER="tests.sessions.test_backend.CountingSerializer")
def test_session_serializer_setting_is_honoured() -> None:
    COUNTED.clear()
    new_session(a=1)
    assert COUNTED


def test_save_never_recreates_a_deleted_session(redis_client: redis.Redis) -> None:
    """Resurrection race: a request saves after a concurrent logout deleted its session."""
    session = new_session(a=1)
    assert session.session_key
    in_flight = SessionStore(session.session_key)
    in_flight.get("a")  # the request reads its session
    SessionStore(session.session_key).delete()  # the logout, meanwhile
    in_flight["a"] = 2
    with pytest.raises(UpdateError):
        in_flight.save()
    assert not redis_client.exists(keys.session(session.session_key))


def test_an_unchanged_save_only_refreshes_the_ttl(redis_client: redis.Redis) -> None:
    """Lost update with SESSION_SAVE_EVERY_REQUEST: the slow read-only request's save."""
    session = new_session(count=1)
    assert session.session_key
    slow = SessionStore(session.session_key)
    slow.get("count")
    fast = SessionStore(session.session_key)
    fast["count"] = 2
    fast.save()
    redis_client.expire(keys.session(session.session_key), 5)
    slow.save()  # nothing changed in this request: must not write its stale snapshot
    assert stored(session.session_key, redis_client) == {"count": 2}
    assert redis_client.ttl(keys.session(session.session_key)) > 5


def test_an_unchanged_save_of_a_deleted_session_does_not_revive_it(
    redis_client: redis.Redis,
) -> None:
    session = new_session(a=1)
    assert session.session_key
    reader = SessionStore(session.session_key)
    reader.get("a")
    SessionStore(session.session_key).delete()
    with pytest.raises(UpdateError):
        reader.save()
    assert not redis_client.exists(keys.session(session.session_key))


def test_a_mutated_value_counts_as_a_change(redis_client: redis.Redis) -> None:
    session = new_session(cart=[1])
    assert session.session_key
    again = SessionStore(session.session_key)
    again["cart"].append(2)  # in place: Django's modified flag does not see it
    again.save()
    assert stored(session.session_key, redis_client) == {"cart": [1, 2]}


def test_expiry_in_the_past_deletes(redis_client: redis.Redis) -> None:
    session = new_session(a=1)
    session.set_expiry(-1)
    assert session.get_expiry_age() <= 0
    session.save()
    assert not redis_client.exists(keys.session(session.session_key or "x"))


def test_custom_expiry_sets_the_ttl(redis_client: redis.Redis) -> None:
    session = SessionStore()
    session.set_expiry(timedelta(seconds=90))
    session["a"] = 1
    session.save()
    assert session.session_key
    assert 80 < redis_client.ttl(keys.session(session.session_key)) <= 90


@pytest.mark.parametrize("kind", ["unknown", "tampered", "expired"])
def test_load_of_a_bad_key_is_empty_forgets_it_and_writes_nothing(
    redis_client: redis.Redis, kind: str
) -> None:
    key = "k" * 32
    if kind == "tampered":
        redis_client.hset(keys.session(key), mapping={"d": "forged-data:sig", "s": 1})
    elif kind == "expired":
        redis_client.hset(keys.session(key), mapping={"d": "x", "s": 1})
        redis_client.pexpire(keys.session(key), 1)
        while redis_client.exists(keys.session(key)):  # let Redis expire it
            pass
    before = sorted(redis_client.scan_iter())
    session = SessionStore(key)
    assert session.load() == {}
    assert session.session_key is None  # never adopt a key the client chose (fixation)
    assert sorted(redis_client.scan_iter()) == before


def test_exists_is_a_bool() -> None:
    session = new_session(a=1)
    assert session.session_key
    assert SessionStore().exists(session.session_key) is True
    assert SessionStore().exists("n" * 32) is False


def test_clear_expired_is_a_no_op(redis_client: redis.Redis) -> None:
    new_session(a=1)
    before = sorted(redis_client.scan_iter())
    SessionStore.clear_expired()
    assert sorted(redis_client.scan_iter()) == before


def test_cycle_key_moves_the_data_and_removes_the_old_key(redis_client: redis.Redis) -> None:
    session = new_session(a=1)
    old = session.session_key
    assert old
    session.cycle_key()
    assert session.session_key
    assert session.session_key != old
    assert not redis_client.exists(keys.session(old))
    assert stored(session.session_key, redis_client) == {"a": 1}


def test_flush_deletes_and_forgets(redis_client: redis.Redis) -> None:
    session = new_session(a=1)
    old = session.session_key
    assert old
    session.flush()
    assert session.session_key is None
    assert not redis_client.exists(keys.session(old))


# --- async ---------------------------------------------------------------------------


def test_async_contract(redis_client: redis.Redis) -> None:
    async def scenario() -> None:
        session = SessionStore()
        await session.aset("a", 1)
        await session.asave()
        key = session.session_key
        assert key
        assert await session.aexists(key) is True
        loaded = SessionStore(key)
        assert await loaded.aget("a") == 1
        await loaded.acycle_key()
        assert not await loaded.aexists(key)
        assert await SessionStore(loaded.session_key).aload() == {"a": 1}
        rival = SessionStore(loaded.session_key)
        rival._session_cache = {}  # type: ignore[attr-defined]  # as above: not in the stubs
        with pytest.raises(CreateError):
            await rival.asave(must_create=True)
        stale = SessionStore(loaded.session_key)
        await stale.aget("a")
        await SessionStore(loaded.session_key).adelete()
        await stale.aset("a", 2)
        with pytest.raises(UpdateError):
            await stale.asave()
        assert await SessionStore("u" * 32).aload() == {}
        await loaded.aflush()
        assert loaded.session_key is None
        await SessionStore.aclear_expired()  # a no-op: nothing left after it, below

    asyncio.run(scenario())
    assert list(redis_client.scan_iter(match="*:sessions:*")) == []
