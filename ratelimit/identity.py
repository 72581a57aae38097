"""Who a request counts as, in key-safe form.

Signed in: the user id. Anonymous: the client IP (``project.web.clientip``, honouring
``NUM_PROXIES``), IPv6 grouped per /64 (one subscriber usually holds a whole /64, so a
per-address limit would be a limit per nothing). No colons reach a key.
"""

from __future__ import annotations

import hashlib
import ipaddress

from django.http import HttpRequest

from project.web.clientip import client_ip


def ip_ident(request: HttpRequest) -> str:
    return address_ident(client_ip(request))


def address_ident(address: str) -> str:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return "ip-unknown"
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped:
        ip = ip.ipv4_mapped
    if isinstance(ip, ipaddress.IPv4Address):
        return f"ip4-{ip}"
    return f"ip6-{ip.packed[:8].hex()}"  # the /64


def user_ident(user_id: object) -> str:
    return f"user-{user_id}"


def text_ident(kind: str, value: str) -> str:
    """A client-supplied string (e.g. the username tried), hashed: any bytes are key-safe."""
    digest = hashlib.sha256(value.strip().lower().encode()).hexdigest()[:24]
    return f"{kind}-{digest}"
