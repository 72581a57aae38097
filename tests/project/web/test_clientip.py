"""The client's address, trusting exactly NUM_PROXIES reverse proxies and no more."""

from __future__ import annotations

from typing import Any

import pytest
from django.test import RequestFactory

from project.web.clientip import client_ip

PROXY = "10.0.0.9"  # REMOTE_ADDR: the innermost proxy, or the client itself


def ip_of(forwarded_for: str | None, remote: str = PROXY) -> str:
    meta: dict[str, Any] = {"REMOTE_ADDR": remote}
    if forwarded_for is not None:
        meta["HTTP_X_FORWARDED_FOR"] = forwarded_for
    return client_ip(RequestFactory().get("/", **meta))


def test_without_trusted_proxies_a_forged_forwarded_for_is_ignored(settings: Any) -> None:
    settings.NUM_PROXIES = 0
    assert ip_of("6.6.6.6", remote="198.51.100.7") == "198.51.100.7"


@pytest.mark.parametrize(
    ("proxies", "expected"),
    [(1, "192.0.2.3"), (2, "192.0.2.2"), (3, "192.0.2.1")],
)
def test_the_address_is_the_one_the_outermost_trusted_proxy_saw(
    settings: Any, proxies: int, expected: str
) -> None:
    settings.NUM_PROXIES = proxies
    assert ip_of("192.0.2.1, 192.0.2.2,192.0.2.3") == expected


def test_fewer_hops_than_proxies_gives_the_leftmost_hop(settings: Any) -> None:
    settings.NUM_PROXIES = 3
    assert ip_of("192.0.2.1, 192.0.2.2") == "192.0.2.1"


def test_a_request_that_bypassed_the_proxies_falls_back_to_remote_addr(settings: Any) -> None:
    settings.NUM_PROXIES = 1
    assert ip_of(None) == PROXY
    assert ip_of(" , ") == PROXY


@pytest.mark.parametrize("hop", ["not-an-ip", "192.0.2.1:8080", "999.1.1.1", "unknown"])
def test_a_malformed_hop_falls_back_to_remote_addr(settings: Any, hop: str) -> None:
    settings.NUM_PROXIES = 1
    assert ip_of(f"192.0.2.1, {hop}") == PROXY


def test_ipv6_hops_are_normalised(settings: Any) -> None:
    """One client, one identity: the throttles key on this string."""
    settings.NUM_PROXIES = 1
    assert ip_of("2001:DB8:0:0::0001") == "2001:db8::1"
    assert ip_of(" 2001:db8::1 ") == "2001:db8::1"
