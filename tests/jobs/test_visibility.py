"""Where a person sees the queue: the admin (django-rq's pages, the outbox) and the health
detail staff get."""

from __future__ import annotations

from collections.abc import Callable

import django_rq
import pytest
from django.test import Client

from jobs.models import OutboxJob
from tests.clients import PASSWORD
from users.models import User

pytestmark = [pytest.mark.redis, pytest.mark.django_db(transaction=True)]


def staff_client(make_user: Callable[..., User]) -> Client:
    client = Client()
    make_user(username="boss", is_staff=True, is_superuser=True)
    assert client.login(username="boss", password=PASSWORD)
    return client


def test_staff_see_the_queue_and_the_outbox_in_the_health_detail(
    make_user: Callable[..., User],
) -> None:
    client = staff_client(make_user)  # creating the user queued its welcome mail
    OutboxJob.objects.create(task="users.tasks.send_welcome", args=[1])  # not handed off
    tasks = client.get("/api/health/").json()["detail"]["tasks"]
    assert tasks == {"queued": 1, "running": 0, "scheduled": 0, "failed": 0, "outbox": 1}
    assert "detail" not in Client().get("/api/health/").json()  # a load balancer's view


def test_the_admin_lists_the_queues_and_the_outbox(make_user: Callable[..., User]) -> None:
    client = staff_client(make_user)
    index = client.get("/admin/").content.decode()
    assert "/admin/django_rq/" in index
    assert "/admin/jobs/outboxjob/" in index
    dashboard = client.get("/admin/django_rq/dashboard/")  # django-rq's: queues, jobs, failed
    assert dashboard.status_code == 200
    assert b"default" in dashboard.content
    job = OutboxJob.objects.create(task="users.tasks.send_welcome", args=[1])
    assert "users.tasks.send_welcome" in client.get("/admin/jobs/outboxjob/").content.decode()
    response = client.post(
        "/admin/jobs/outboxjob/", {"action": "hand_off", "_selected_action": [str(job.pk)]}
    )
    assert response.status_code == 302
    assert not OutboxJob.objects.exists()
    assert django_rq.get_queue("default").count == 2  # the welcome of boss, and this one
