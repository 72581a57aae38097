"""The figures ``/metrics`` reads from Redis at scrape time: gauges of what is stored (queue
depths, the outbox, stream lag, pending write-back counts), not counts of what happened
(those are ``project.metrics``'s counters)."""

from __future__ import annotations

import logging
from collections.abc import Iterator

from django.db import DatabaseError
from prometheus_client.core import GaugeMetricFamily
from prometheus_client.registry import Collector
from redis import RedisError

from jobs.health import queue_figures
from notifications.hub import open_streams
from project.events import figures as events
from project.redis.client import get_client
from users import keys as user_keys

logger = logging.getLogger("observability")


class StoredFigures(Collector):
    def collect(self) -> Iterator[GaugeMetricFamily]:
        up = GaugeMetricFamily("app_redis_up", "1 if Redis answered this scrape's reads.")
        try:
            families = list(self._read())
        except (RedisError, DatabaseError) as exc:
            logger.warning("metrics: stored figures unavailable: %s", exc)
            up.add_metric([], 0)
            yield up
            return
        up.add_metric([], 1)
        yield up
        yield from families
        streams = GaugeMetricFamily(
            "app_notification_streams_open", "Live notification streams open in this process."
        )
        streams.add_metric([], open_streams())
        yield streams

    @staticmethod
    def _read() -> Iterator[GaugeMetricFamily]:
        client = get_client()
        jobs = queue_figures()
        queue = GaugeMetricFamily(
            "app_queue_jobs", "Jobs of the task queue, by state.", labels=["state"]
        )
        for state in ("queued", "running", "scheduled", "failed"):
            queue.add_metric([state], jobs[state])
        yield queue
        outbox = GaugeMetricFamily(
            "app_outbox_backlog", "Committed jobs and events not handed to Redis yet."
        )
        outbox.add_metric([], jobs["outbox"])
        yield outbox
        length = GaugeMetricFamily(
            "app_event_stream_length", "Entries in a topic's stream.", labels=["topic"]
        )
        dead = GaugeMetricFamily(
            "app_event_dead_letters", "Entries that failed every delivery.", labels=["topic"]
        )
        lag = GaugeMetricFamily(
            "app_event_consumer_lag", "Entries a consumer group has not read yet.",
            labels=["topic", "group"],
        )  # fmt: skip
        pending = GaugeMetricFamily(
            "app_event_consumer_pending", "Entries a group read and has not acknowledged.",
            labels=["topic", "group"],
        )  # fmt: skip
        for stream in events.streams(client=client):
            length.add_metric([stream.topic], stream.length)
            dead.add_metric([stream.topic], stream.dead_letters)
            for group in stream.groups:
                lag.add_metric([stream.topic, group.name], group.lag)
                pending.add_metric([stream.topic, group.name], group.pending)
        yield from (length, dead, lag, pending)
        writeback = GaugeMetricFamily(
            "app_writeback_pending_fields",
            "Counts waiting in Redis for the next flush (one field per user and kind).",
        )
        writeback.add_metric([], client.hlen(user_keys.counters_pending()))
        yield writeback
