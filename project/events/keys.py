"""Every key and channel of the events machinery. A topic's stream, dead letters and
processed-id marks share the topic's hash tag (one Cluster slot per topic)."""

from __future__ import annotations

from project.redis.keys import hash_tag, make_key

APP = "events"


def channel(topic: str) -> str:
    """``{prefix}:events:<topic>``: pub/sub channels span DB numbers, so they are prefixed."""
    return make_key(APP, topic)


def stream(topic: str) -> str:
    """``{prefix}:events:{<topic>}:stream``: permanent, capped near EVENTS_STREAM_MAXLEN."""
    return make_key(APP, hash_tag(topic), "stream")


def dead_letter(topic: str) -> str:
    """``{prefix}:events:{<topic>}:dead``: entries that failed every delivery (capped)."""
    return make_key(APP, hash_tag(topic), "dead")


def done(topic: str, event_id: str) -> str:
    """``{prefix}:events:{<topic>}:done:<id>``: the event was handled (7 days)."""
    return make_key(APP, hash_tag(topic), "done", event_id)
