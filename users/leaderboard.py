"""The points leaderboard: ``User.points`` in the database, a Redis sorted set as index.

Members are zero-padded user ids, so ties are ordered by id, deterministically (among
equal points the higher id ranks first: Redis orders equal scores by member, and the board
is read in reverse). After every commit that writes ``points`` (the API, the admin, a
queryset update) the user's score is set from the database, read under the row's lock:
updates land in commit order, and a lost one is repaired by the user's next write.
An update lost to a Redis outage is logged; ``manage.py rebuild_indexes`` recomputes the
board from the database.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable
from dataclasses import dataclass
from typing import cast

from django.db import transaction
from django.db.models import F
from redis import Redis, RedisError

from notifications.services import notify
from project.redis.client import get_client
from users import keys
from users.cache import cached_users
from users.models import User

logger = logging.getLogger("users")


@dataclass(frozen=True)
class Standing:
    user_id: int
    rank: int  # 1-based
    points: int


def member(user_id: int) -> str:
    return f"{user_id:012d}"


def add_points(*, user_id: int, delta: int) -> int:
    """Add ``delta`` to the user's points; returns the new total. The board follows on
    commit (``users/indexes.py``: every write of ``points``, from any path)."""
    with transaction.atomic():
        cached_users.bulk_update(User.objects.filter(pk=user_id), points=F("points") + delta)
        total = User.objects.values_list("points", flat=True).get(pk=user_id)
        notify(user_id, "points.awarded", delta=delta, points=total)
        return total


def resync(user_ids: Iterable[int], *, client: Redis | None = None) -> None:
    """Give the users the places their points in the database say, now (a deleted user
    leaves the board). Read under the rows' locks, so two resyncs of a user write Redis in
    commit order. Redis failing is logged: the database holds the truth and
    ``rebuild_indexes`` (or the next write of that user) repairs the board."""
    ids = sorted(set(user_ids))
    try:
        with transaction.atomic():
            points = dict(
                User.objects.select_for_update().filter(pk__in=ids).values_list("pk", "points")
            )
            pipe = (client or get_client()).pipeline(transaction=False)
            for user_id in ids:
                if user_id in points:
                    pipe.zadd(keys.leaderboard(), {member(user_id): points[user_id]})
                else:
                    pipe.zrem(keys.leaderboard(), member(user_id))
            pipe.execute()
    except RedisError as exc:
        logger.error("leaderboard: users %s not resynced (rebuild_indexes repairs): %s", ids, exc)


def remove(user_id: int) -> None:
    get_client().zrem(keys.leaderboard(), member(user_id))


def top(*, limit: int, offset: int, client: Redis | None = None) -> list[Standing]:
    # (member, score) pairs, members as bytes: withscores, and no decode_responses.
    entries = cast(
        "list[tuple[bytes, float]]",
        (client or get_client()).zrevrange(
            keys.leaderboard(), offset, offset + limit - 1, withscores=True
        ),
    )
    return [
        Standing(int(name), offset + i + 1, int(score)) for i, (name, score) in enumerate(entries)
    ]


def standing(user_id: int, *, client: Redis | None = None) -> Standing | None:
    pipe = (client or get_client()).pipeline(transaction=False)
    pipe.zrevrank(keys.leaderboard(), member(user_id))
    pipe.zscore(keys.leaderboard(), member(user_id))
    rank, score = pipe.execute()
    return None if rank is None else Standing(user_id, rank + 1, int(score))


def rebuild(*, client: Redis | None = None) -> int:
    """Recompute the board from the database; returns the number of users on it."""
    client = client or get_client()
    scratch = keys.leaderboard_scratch()
    client.delete(scratch)
    count = 0
    pipe = client.pipeline(transaction=False)
    for user_id, points in User.objects.values_list("pk", "points").iterator():
        pipe.zadd(scratch, {member(user_id): points})
        count += 1
        if count % 1000 == 0:
            pipe.execute()
    pipe.execute()
    if count:
        client.rename(scratch, keys.leaderboard())  # readers never see a half-built board
    else:
        client.delete(keys.leaderboard())
    return count
