"""The client's IP address, trusting exactly ``NUM_PROXIES`` reverse proxies.

With 0 (the default) it is ``REMOTE_ADDR``, and ``X-Forwarded-For`` is ignored: a client
could write anything there (DRF#3234). With N, it is the address N hops from the right of
``X-Forwarded-For``, the one the outermost trusted proxy saw.
"""

from __future__ import annotations

import ipaddress

from django.conf import settings
from django.http import HttpRequest


def client_ip(request: HttpRequest) -> str:
    remote = request.META.get("REMOTE_ADDR", "")
    proxies = settings.NUM_PROXIES
    if proxies <= 0:
        return remote
    hops = [hop.strip() for hop in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
    hops = [hop for hop in hops if hop]
    if not hops:
        return remote
    candidate = hops[-min(proxies, len(hops))]
    try:
        return str(ipaddress.ip_address(candidate))
    except ValueError:
        return remote
