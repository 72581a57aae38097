from __future__ import annotations

from typing import Any

import pytest
from django.core.handlers.wsgi import WSGIRequest
from django.test import RequestFactory, override_settings

from ratelimit.identity import address_ident, ip_ident, text_ident


def request(remote: str = "203.0.113.9", forwarded: str | None = None) -> WSGIRequest:
    extra: dict[str, Any] = {"REMOTE_ADDR": remote}
    if forwarded is not None:
        extra["HTTP_X_FORWARDED_FOR"] = forwarded
    return RequestFactory().get("/", **extra)


def test_without_proxies_x_forwarded_for_is_ignored() -> None:
    spoofed = [ip_ident(request(forwarded=f"10.0.0.{i}")) for i in range(5)]
    assert set(spoofed) == {"ip4-203.0.113.9"}


@override_settings(NUM_PROXIES=1)
def test_one_proxy_means_the_last_hop() -> None:
    assert ip_ident(request(forwarded="1.1.1.1, 198.51.100.7")) == "ip4-198.51.100.7"


@override_settings(NUM_PROXIES=2)
def test_two_proxies_mean_the_second_hop_from_the_right() -> None:
    # The client wrote 1.1.1.1 itself; the first trusted proxy saw 198.51.100.7.
    assert ip_ident(request(forwarded="1.1.1.1, 198.51.100.7, 10.0.0.2")) == "ip4-198.51.100.7"


@override_settings(NUM_PROXIES=1)
def test_a_garbage_forwarded_hop_falls_back_to_the_peer() -> None:
    assert ip_ident(request(forwarded="not-an-ip")) == "ip4-203.0.113.9"
    assert ip_ident(request(forwarded="")) == "ip4-203.0.113.9"


def test_ipv6_is_grouped_per_64_and_key_safe() -> None:
    a = address_ident("2001:db8:1:2:aaaa::1")
    b = address_ident("2001:db8:1:2:bbbb::2")
    c = address_ident("2001:db8:1:3::1")
    assert a == b != c
    assert ":" not in a


def test_ipv4_mapped_ipv6_counts_as_ipv4() -> None:
    assert address_ident("::ffff:192.0.2.1") == address_ident("192.0.2.1") == "ip4-192.0.2.1"


@pytest.mark.parametrize("value", ["Alice", " alice ", "ALICE"])
def test_usernames_are_normalised_and_hashed(value: str) -> None:
    ident = text_ident("username", value)
    assert ident == text_ident("username", "alice")
    assert "alice" not in ident
    assert ":" not in text_ident("username", "we{ird}:name")
