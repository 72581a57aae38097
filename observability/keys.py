"""The dashboard's own keys: gauges sampled while someone watches."""

from __future__ import annotations

from project.redis.keys import make_key

APP = "observability"


def gauges() -> str:
    """``{prefix}:observability:gauges``: stream of gauge samples, capped (``gauges.KEEP``)."""
    return make_key(APP, "gauges")


def gauges_taken() -> str:
    """``{prefix}:observability:gauges:taken``: set for one sample period by whoever takes
    the sample, so several viewers and processes take one between them."""
    return make_key(APP, "gauges", "taken")
