"""Lua scripts from ``.lua`` files: read once, run by EVALSHA, reloaded after NOSCRIPT."""

from __future__ import annotations

from pathlib import Path

import pytest
from django.conf import settings
from redis import Redis

from project.redis.keys import hash_tag, make_key
from project.redis.scripts import compare_and_delete, load

pytestmark = pytest.mark.redis

# A cluster pipeline refuses EVALSHA (the callers run scripts one by one there).
not_on_cluster = pytest.mark.skipif(
    settings.REDIS_TOPOLOGY.kind == "cluster", reason="a cluster pipeline refuses EVALSHA"
)

# SET KEYS[1] to ARGV[1] and add ARGV[2] to KEYS[2]; the keys share one hash tag (one slot).
SET_AND_ADD = "redis.call('SET', KEYS[1], ARGV[1]); return redis.call('INCRBY', KEYS[2], ARGV[2])"


def module_with(tmp_path: Path, **scripts: str) -> str:
    """A fake module file ``tmp_path/mod.py`` with ``lua/<name>.lua`` beside it."""
    (tmp_path / "lua").mkdir(exist_ok=True)
    for name, source in scripts.items():
        (tmp_path / "lua" / f"{name}.lua").write_text(source)
    return str(tmp_path / "mod.py")


def tagged(*rest: str) -> str:
    return make_key("test", hash_tag("scripts"), *rest)


def test_a_script_is_read_once_per_process(tmp_path: Path, redis_client: Redis) -> None:
    module = module_with(tmp_path, answer="return 'first'")
    script = load(module, "answer")
    (tmp_path / "lua" / "answer.lua").write_text("return 'edited'")

    assert load(module, "answer") is script
    assert script.path == tmp_path / "lua" / "answer.lua"
    assert script(redis_client, keys=[], args=[]) == b"first"


def test_a_missing_script_fails_when_it_is_loaded(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load(module_with(tmp_path), "absent")


def test_a_script_runs_with_its_keys_and_args(tmp_path: Path, redis_client: Redis) -> None:
    script = load(module_with(tmp_path, set_and_add=SET_AND_ADD), "set_and_add")
    redis_client.set(tagged("n"), 40)

    assert script(redis_client, keys=[tagged("s"), tagged("n")], args=("hello", 2)) == 42
    assert redis_client.get(tagged("s")) == b"hello"


@not_on_cluster
def test_in_a_pipeline_the_script_reply_comes_with_the_pipelines(
    tmp_path: Path, redis_client: Redis
) -> None:
    script = load(module_with(tmp_path, set_and_add=SET_AND_ADD), "set_and_add")
    pipe = redis_client.pipeline(transaction=False)
    pipe.set(tagged("n"), 1)
    script(pipe, keys=[tagged("s"), tagged("n")], args=["queued", 5])
    assert redis_client.get(tagged("s")) is None  # nothing sent yet

    assert pipe.execute() == [True, 6]
    assert redis_client.get(tagged("s")) == b"queued"


def test_a_script_still_runs_after_the_server_forgot_it(
    tmp_path: Path, redis_client: Redis
) -> None:
    """A restarted or failed-over server has an empty script cache (NOSCRIPT)."""
    script = load(module_with(tmp_path, set_and_add=SET_AND_ADD), "set_and_add")
    assert script(redis_client, keys=[tagged("s"), tagged("n")], args=["a", 1]) == 1

    redis_client.script_flush()
    assert script(redis_client, keys=[tagged("s"), tagged("n")], args=["b", 1]) == 2


@not_on_cluster
def test_a_pipelined_script_still_runs_after_the_server_forgot_it(
    tmp_path: Path, redis_client: Redis
) -> None:
    script = load(module_with(tmp_path, set_and_add=SET_AND_ADD), "set_and_add")
    assert script(redis_client, keys=[tagged("s"), tagged("n")], args=["a", 1]) == 1

    redis_client.script_flush()
    pipe = redis_client.pipeline(transaction=False)
    script(pipe, keys=[tagged("s"), tagged("n")], args=["b", 1])
    assert pipe.execute() == [2]


def test_compare_and_delete_removes_the_key_only_for_its_holder(redis_client: Redis) -> None:
    key = tagged("lock")
    redis_client.set(key, "token-a")

    assert compare_and_delete(redis_client, key, "token-b") is False
    assert redis_client.get(key) == b"token-a"  # the holder keeps it

    assert compare_and_delete(redis_client, key, "token-a") is True
    assert not redis_client.exists(key)
    assert compare_and_delete(redis_client, key, "token-a") is False  # already gone
