"""Noticing that Redis may have lost writes, on real servers: a new server, a restart from
a snapshot, a promoted replica; and nothing noticed when the data is the one adopted."""

from __future__ import annotations

import pytest
from redis.crc import key_slot

from project.redis import epoch
from project.redis.epoch import losses
from tests.own_redis import ReplicatedRedis, SnapshotRedis

pytestmark = pytest.mark.redis


def settle(client: object) -> list[int]:
    dropped: list[int] = []
    assert losses.settle(client, lambda: dropped.append(1))  # type: ignore[arg-type]
    return dropped


def test_a_server_whose_data_nobody_adopted_is_noticed_once(
    snapshot_server: SnapshotRedis,
) -> None:
    client = snapshot_server.client()
    client.ping()  # the first connection
    assert losses.pending()
    assert settle(client) == [1]
    assert not losses.pending()
    seen = losses.noticed
    snapshot_server.client().ping()  # a new connection, to adopted data
    assert (losses.noticed, losses.pending()) == (seen, False)


def test_a_restart_from_a_snapshot_is_noticed_though_the_snapshot_holds_a_record(
    snapshot_server: SnapshotRedis,
) -> None:
    client = snapshot_server.client()
    client.ping()
    settle(client)
    snapshot_server.snapshot()  # holds the record of this run
    snapshot_server.crash_and_restart()
    seen = losses.noticed
    client.ping()  # the pool reconnects: a new connection
    assert (losses.noticed, losses.pending()) == (seen + 1, True)
    assert settle(client) == [1]


def test_a_promoted_replica_is_noticed(replicated: ReplicatedRedis) -> None:
    primary = replicated.client(replicated.primary)
    primary.ping()
    settle(primary)
    replicated.wait_in_sync()  # the replica holds the primary's record
    replicated.cut_off_replica()
    replica = replicated.client(replicated.replica)  # the clients follow the failover
    seen = losses.noticed
    replica.ping()
    assert losses.noticed == seen + 1


def test_a_drop_that_fails_keeps_the_loss_pending(snapshot_server: SnapshotRedis) -> None:
    client = snapshot_server.client()
    client.ping()

    def failing() -> None:
        raise ConnectionError("Redis went away while settling")

    with pytest.raises(ConnectionError):
        losses.settle(client, failing)
    assert losses.pending()
    snapshot_server.client().ping()
    assert losses.pending()  # nothing was adopted: another connection notices it too


@pytest.mark.parametrize("slot", [0, 5460, 16383])
def test_a_cluster_node_keeps_its_record_in_a_slot_it_owns(slot: int) -> None:
    key = epoch.record_key(slot)
    tag = key[key.index("{") + 1 : key.index("}")]
    assert key_slot(tag.encode()) == slot


def test_a_loss_is_news_once_and_a_check_older_than_its_adoption_is_not(
    snapshot_server: SnapshotRedis,
) -> None:
    """Connections made while a loss is being settled report it again: not news. A check
    made after the adoption that still finds another record is (the data changed again)."""
    now = [10.0]
    fresh = epoch.Losses(clock=lambda: now[0])
    fresh.notice("k", "run-a", checked_at=9.0)
    fresh.notice("k", "run-a", checked_at=9.5)  # a second connection, same loss
    assert fresh.noticed == 1
    fresh.settle(snapshot_server.client(), lambda: None)  # adopted at 10.0
    fresh.notice("k", "run-a", checked_at=9.9)  # checked before the adoption landed
    assert (fresh.noticed, fresh.pending()) == (1, False)
    fresh.notice("k", "run-a", checked_at=10.5)  # checked after it: the record changed
    assert (fresh.noticed, fresh.pending()) == (2, True)
