"""What staff see of the notification streams in ``/api/health/`` (``detail.notifications``)."""

from __future__ import annotations

from notifications.hub import open_streams
from project.web.views import health_detail


@health_detail("notifications")
def stream_figures() -> dict[str, int]:
    return {"open_streams": open_streams()}  # in the process that answered
