"""Enqueueing and publishing after commit through the outbox, against the real Redis: a
commit enqueues, a rollback does not, a hand-off Redis refuses waits in the outbox for the
relay."""

from __future__ import annotations

from collections.abc import Callable
from typing import cast

import django_rq
import pytest
import redis
from django.db import transaction

from jobs import relay
from jobs.models import Done, OutboxJob
from jobs.services import enqueue_on_commit, once, publish_on_commit
from project.events import keys
from project.events.envelope import Event
from project.redis.breaker import CircuitBreaker
from tests.conftest import Outage
from users.models import User
from users.tasks import send_welcome

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def queued() -> list[str | None]:
    return [job.func_name for job in django_rq.get_queue("default").get_jobs()]


def test_a_job_enqueued_in_a_transaction_is_queued_at_its_commit_and_not_before() -> None:
    with transaction.atomic():
        enqueue_on_commit(send_welcome, 1)
        assert OutboxJob.objects.count() == 1
        assert queued() == []
    assert queued() == ["users.tasks.send_welcome"]
    assert OutboxJob.objects.count() == 0


def test_enqueues_share_one_connection_to_the_queues_redis() -> None:
    server = django_rq.get_connection("default")
    before = server.info("stats")["total_connections_received"]
    for user_id in range(20):
        with transaction.atomic():
            enqueue_on_commit(send_welcome, user_id)
    assert len(queued()) == 20
    # At most the first makes one (django-rq alone makes one per enqueue).
    assert server.info("stats")["total_connections_received"] - before <= 1


def test_a_rolled_back_transaction_enqueues_nothing() -> None:
    def rolled_back() -> None:
        with transaction.atomic():
            enqueue_on_commit(send_welcome, 1)
            raise RuntimeError("rolled back")

    with pytest.raises(RuntimeError):
        rolled_back()
    assert queued() == []
    assert OutboxJob.objects.count() == 0


def test_every_new_user_enqueues_a_welcome_once(make_user: Callable[..., User]) -> None:
    user = make_user(username="newcomer")
    user.full_name = "Changed"
    user.save()  # not a creation
    jobs = django_rq.get_queue("default").get_jobs()
    assert [(job.func_name, job.args) for job in jobs] == [("users.tasks.send_welcome", (user.pk,))]


def test_a_hand_off_redis_refuses_waits_in_the_outbox_for_the_relay(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    live = django_rq.settings.QUEUES["default"]
    monkeypatch.setitem(
        django_rq.settings.QUEUES, "default", {**live, "URL": "redis://127.0.0.1:1/0"}
    )
    with transaction.atomic():
        enqueue_on_commit(send_welcome, 7)  # the commit does not fail
    [left] = OutboxJob.objects.all()
    assert left.attempts == 1
    assert "ConnectionError" in left.last_error
    monkeypatch.setitem(django_rq.settings.QUEUES, "default", live)
    assert relay.relay_left(older_than=relay.timedelta(0)) == 1
    assert queued() == ["users.tasks.send_welcome"]
    assert OutboxJob.objects.count() == 0
    assert relay.relay_left(older_than=relay.timedelta(0)) == 0  # nothing twice


def test_after_a_refused_hand_off_the_next_ones_wait_without_trying_redis(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(relay, "breaker", CircuitBreaker(cooldown=60))
    live = django_rq.settings.QUEUES["default"]
    monkeypatch.setitem(
        django_rq.settings.QUEUES, "default", {**live, "URL": "redis://127.0.0.1:1/0"}
    )
    for user_id in (1, 2, 3):
        enqueue_on_commit(send_welcome, user_id)
    assert sorted(OutboxJob.objects.values_list("attempts", flat=True)) == [0, 0, 1]


def test_once_claims_a_key_the_first_time_only() -> None:
    with transaction.atomic():
        assert once("welcome:1")
    with transaction.atomic():
        assert not once("welcome:1")

    def mail_fails() -> None:
        with transaction.atomic():
            assert once("welcome:2")
            raise RuntimeError("the mail failed")

    with pytest.raises(RuntimeError):
        mail_fails()
    assert list(Done.objects.values_list("key", flat=True)) == ["welcome:1"]


def test_an_event_redis_refused_at_commit_is_published_by_the_relay(
    redis_client: redis.Redis, redis_down: Outage
) -> None:
    event = Event("user.updated", 3, {"changed": ["full_name"]})
    with transaction.atomic():
        publish_on_commit("users", event)  # the commit does not fail
    [left] = OutboxJob.objects.all()
    assert left.topic == "users"
    assert left.attempts == 1
    redis_down.end()
    assert relay.relay_left(older_than=relay.timedelta(0)) == 1
    stream = cast(
        "list[tuple[bytes, dict[bytes, bytes]]]", redis_client.xrange(keys.stream("users"))
    )
    assert [Event.from_json(fields[b"event"]) for _, fields in stream] == [event]
    assert not OutboxJob.objects.exists()
