"""Every key and channel of the events machinery. A topic's stream and the keys its
consumers keep beside it share the topic's hash tag (one Cluster slot per topic), so one
script can touch several of them."""

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


def progress(topic: str) -> str:
    """``{prefix}:events:{<topic>}:progress``: hash, one field per pending entry and group
    (who holds its delivery, which handlers already succeeded); deleted with the entry's
    acknowledgement."""
    return make_key(APP, hash_tag(topic), "progress")


def handled(topic: str) -> str:
    """``{prefix}:events:{<topic>}:handled``: sorted set of ``<group>|<event id>`` scored by
    the entry's time; dropped as the stream is trimmed past them."""
    return make_key(APP, hash_tag(topic), "handled")


def lost(topic: str) -> str:
    """``{prefix}:events:{<topic>}:lost``: how many entries a group still needed were trimmed
    because it fell more than EVENTS_STREAM_MAXLEN behind."""
    return make_key(APP, hash_tag(topic), "lost")
