"""Which event types exist and who handles them (handlers register in ``AppConfig.ready``)."""

from __future__ import annotations

import logging
from collections.abc import Callable

from project.events.envelope import Event

logger = logging.getLogger("project.events")

Handler = Callable[[Event], None]
_handlers: dict[str, list[Handler]] = {}
_types: set[str] = set()
ALL = "*"


def declare(*event_types: str) -> None:
    """Make event types known: listeners skip (and count) events of any other type."""
    _types.update(event_types)


def handler(event_type: str) -> Callable[[Handler], Handler]:
    """Register a handler for an event type (``"*"`` for all), e.g. in AppConfig.ready()."""

    def register(function: Handler) -> Handler:
        if function not in _handlers.setdefault(event_type, []):
            _handlers[event_type].append(function)
        return function

    return register


def unregister(event_type: str, function: Handler) -> None:
    if function in _handlers.get(event_type, []):
        _handlers[event_type].remove(function)


def handlers_for(event_type: str) -> list[Handler]:
    return [*_handlers.get(event_type, []), *_handlers.get(ALL, [])]


def known(event_type: str) -> bool:
    return event_type in _types or event_type in _handlers


@handler(ALL)
def log_event(event: Event) -> None:
    """The default handler: one line per event."""
    logger.info("event %s user=%s id=%s", event.type, event.user_id, event.id)
