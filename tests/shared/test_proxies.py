"""Who the client is behind trusted proxies, and what a limit counts as one client (shared/proxies.py)."""

from __future__ import annotations

import pytest

from shared.proxies import client_network, forwarded_client, parse_trusted_proxies

GATEWAY = parse_trusted_proxies("10.0.0.2, fd00::/64")


def test_a_peer_that_is_not_trusted_is_the_client_whatever_it_sends() -> None:
    assert forwarded_client("198.51.100.7", ["203.0.113.5"], GATEWAY) == "198.51.100.7"


def test_behind_a_trusted_proxy_the_right_most_untrusted_hop_is_the_client() -> None:
    # The client wrote "1.2.3.4" itself; the gateway appended the address it saw.
    assert forwarded_client("10.0.0.2", ["1.2.3.4, 203.0.113.5"], GATEWAY) == "203.0.113.5"
    assert forwarded_client("10.0.0.2", ["1.2.3.4", "203.0.113.5, 10.0.0.2"], GATEWAY) == "203.0.113.5"
    assert forwarded_client("fd00::9", ["2001:db8::1"], GATEWAY) == "2001:db8::1"
    assert forwarded_client("10.0.0.2", ["[2001:db8::1]:443"], GATEWAY) == "2001:db8::1"
    assert forwarded_client("10.0.0.2", ["203.0.113.5:5100"], GATEWAY) == "203.0.113.5"


def test_garbage_in_the_header_does_not_become_the_client() -> None:
    assert forwarded_client("10.0.0.2", ["not-an-address"], GATEWAY) == "10.0.0.2"
    assert forwarded_client("10.0.0.2", ["evil, 203.0.113.5"], GATEWAY) == "203.0.113.5"
    assert forwarded_client("10.0.0.2", [], GATEWAY) == "10.0.0.2"


@pytest.mark.parametrize("value", ["*", "10.0.0.1, *", "gateway", "10.0.0.0/33"])
def test_trust_in_everyone_or_in_a_name_is_refused(value: str) -> None:
    with pytest.raises(ValueError, match=r"every peer|not an IP address"):
        parse_trusted_proxies(value)


def test_trusted_proxies_parse_addresses_and_networks() -> None:
    assert [str(n) for n in parse_trusted_proxies(" 10.0.0.5 ,172.16.0.0/12,::1")] == [
        "10.0.0.5/32",
        "172.16.0.0/12",
        "::1/128",
    ]
    assert parse_trusted_proxies("") == ()


def test_an_ipv6_client_is_counted_per_64_and_an_ipv4_client_per_address() -> None:
    assert client_network("2001:db8:1:2::1") == client_network("2001:db8:1:2:ffff::9") == "2001:db8:1:2::/64"
    assert client_network("2001:db8:1:3::1") != client_network("2001:db8:1:2::1")
    assert client_network("203.0.113.5") == "203.0.113.5"
    assert client_network("::ffff:203.0.113.5") == "203.0.113.5"
    assert client_network("unknown") == "unknown"
