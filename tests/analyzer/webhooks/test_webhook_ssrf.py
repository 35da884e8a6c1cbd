"""SSRF vetting of webhook targets: every spelling of an internal address is refused, public ones pass."""

from __future__ import annotations

import ipaddress
import socket
from collections.abc import Sequence
from pathlib import Path

import pytest

from services.analyzer.webhooks.ssrf import (
    ForbiddenTarget,
    IPAddress,
    is_forbidden_ip,
    literal_host_ip,
    parse_target,
    resolve_and_vet,
    vet_at_creation,
)

# Hosts as they appear in a URL, each refused at send time; all but the names are refused at creation too.
REFUSED_HOSTS = [
    "127.0.0.1",
    "127.1",
    "127.0.0.1.",
    "127.255.255.254",
    "2130706433",
    "0x7f000001",
    "0177.0.0.1",
    "0177.1",
    "0x7f.1",
    "0x7f.0.0.1",
    "017700000001",
    "127.000.000.001",
    "\uff11\uff12\uff17.\uff10.\uff10.\uff11",  # full-width digits
    "127\u30020\u30020\u30021",  # ideographic full stops
    "%31%32%37.0.0.1",
    "[::1]",
    "[0:0:0:0:0:0:0:1]",
    "[::ffff:127.0.0.1]",
    "[::ffff:7f00:1]",
    "[0:0:0:0:0:ffff:127.0.0.1]",
    "[::ffff:10.0.0.1]",
    "[::ffff:169.254.169.254]",
    "[::127.0.0.1]",
    "10.0.0.1",
    "10.1",
    "10.255.255.255",
    "012.0.0.1",
    "167772161",
    "172.16.0.1",
    "172.31.255.255",
    "192.168.1.1",
    "3232235777",
    "0xc0.0xa8.1.1",
    "169.254.169.254",
    "0xa9fea9fe",
    "2852039166",
    "169.254.0.1",
    "169.254.170.2",
    "[fd00:ec2::254]",
    "100.64.0.1",
    "100.127.255.255",
    "100.100.100.200",
    "0.0.0.0",  # noqa: S104 - a target to refuse, not an address to bind
    "0",
    "0.1.2.3",
    "224.0.0.1",
    "239.255.255.250",
    "255.255.255.255",
    "240.0.0.1",
    "198.18.0.1",
    "198.19.255.255",
    "192.0.2.1",
    "192.0.0.1",
    "[::]",
    "[fe80::1]",
    "[fe80::1%25eth0]",
    "[fc00::1]",
    "[fd12:3456:789a::1]",
    "[fec0::1]",
    "[ff02::1]",
    "[64:ff9b::10.0.0.1]",
    "[64:ff9b::7f00:1]",
    "[64:ff9b:1::1]",
    "[2002:0a00:0001::]",
    "[2002:7f00:0001::1]",
    "[2002:a9fe:a9fe::]",
    "[2001:0:4136:e378:8000:63bf:3fff:fdd2]",
    "[2001:db8::1]",
    "[100::1]",
    "localhost",
    "LocalHost",
]

ALLOWED_HOSTS = [
    "8.8.8.8",
    "1.1.1.1",
    "93.184.216.34",
    "140.82.112.3",
    "9.255.255.255",
    "11.0.0.1",
    "100.63.255.255",
    "100.128.0.0",
    "126.255.255.255",
    "128.0.0.1",
    "169.253.255.255",
    "169.255.0.1",
    "172.15.255.255",
    "172.32.0.0",
    "192.167.255.255",
    "192.169.0.1",
    "198.17.255.255",
    "198.20.0.1",
    "223.255.255.255",
    "134744072",
    "0x08080808",
    "[2606:4700:4700::1111]",
    "[2001:4860:4860::8888]",
    "[2a00:1450:4001:80b::200e]",
    "[::ffff:8.8.8.8]",
    "[64:ff9b::8.8.8.8]",
    "[2002:0808:0808::1]",
]

# Refused even with WEBHOOK_ALLOW_PRIVATE_TARGETS=true.
NEVER_ALLOWED = [
    "169.254.169.254",
    "169.254.170.2",
    "100.100.100.200",
    "[fd00:ec2::254]",
    "[::ffff:169.254.169.254]",
    "0.0.0.0",  # noqa: S104 - a target to refuse, not an address to bind
    "[::]",
    "224.0.0.1",
    "255.255.255.255",
    "240.0.0.1",
    "[ff02::1]",
    "[fe80::1%25eth0]",
    "[2001:0:4136:e378:8000:63bf:3fff:fdd2]",
]

LIFTED_BY_ALLOW_PRIVATE = [
    "127.0.0.1",
    "2130706433",
    "[::1]",
    "[::ffff:127.0.0.1]",
    "10.0.0.1",
    "172.16.0.1",
    "192.168.1.1",
    "100.64.0.1",
    "169.254.0.1",
    "[fc00::1]",
    "[fe80::1]",
]


class StaticLookup:
    """A DNS stand-in that answers every name with fixed addresses and counts the lookups."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = [ipaddress.ip_address(address) for address in addresses]
        self.calls: list[tuple[str, int]] = []

    async def __call__(self, host: str, port: int) -> Sequence[IPAddress]:
        """Answer one lookup."""
        self.calls.append((host, port))
        return self.addresses


def hosts_file_name() -> str | None:
    """Return a name other than localhost that /etc/hosts maps to an internal address, if there is one."""
    try:
        lines = Path("/etc/hosts").read_text().splitlines()
    except OSError:
        return None
    for line in lines:
        fields = line.split("#", 1)[0].split()
        if len(fields) < 2:
            continue
        try:
            address = ipaddress.ip_address(fields[0])
        except ValueError:
            continue
        names = [name for name in fields[1:] if "localhost" not in name]
        if names and is_forbidden_ip(address) is not None:
            return names[0]
    return None


def test_refused_table_is_large_enough() -> None:
    assert len(REFUSED_HOSTS) >= 40
    assert len(set(REFUSED_HOSTS)) == len(REFUSED_HOSTS)


@pytest.mark.parametrize("host", REFUSED_HOSTS)
async def test_refused_at_send_time(host: str) -> None:
    with pytest.raises(ForbiddenTarget):
        await resolve_and_vet(host, 443, allow_private=False)


@pytest.mark.parametrize("host", REFUSED_HOSTS)
def test_refused_at_creation(host: str) -> None:
    with pytest.raises(ForbiddenTarget):
        vet_at_creation(f"https://{host}/hooks/alerts", allow_private=False)


@pytest.mark.parametrize("host", ALLOWED_HOSTS)
async def test_public_addresses_are_allowed(host: str) -> None:
    address = literal_host_ip(host)
    assert address is not None
    assert is_forbidden_ip(address) is None
    vet_at_creation(f"https://{host}/hooks", allow_private=False)
    assert await resolve_and_vet(host, 443, allow_private=False) == [address]


@pytest.mark.parametrize("host", NEVER_ALLOWED)
async def test_metadata_multicast_and_unspecified_stay_refused_with_allow_private(host: str) -> None:
    with pytest.raises(ForbiddenTarget):
        await resolve_and_vet(host, 443, allow_private=True)
    with pytest.raises(ForbiddenTarget):
        vet_at_creation(f"http://{host}/", allow_private=True)


@pytest.mark.parametrize("host", LIFTED_BY_ALLOW_PRIVATE)
async def test_allow_private_lifts_local_ranges(host: str) -> None:
    vet_at_creation(f"http://{host}:8080/", allow_private=True)
    assert await resolve_and_vet(host, 8080, allow_private=True) == [literal_host_ip(host)]


@pytest.mark.parametrize(
    ("host", "expected"),
    [
        ("127.0.0.1", "127.0.0.1"),
        ("127.1", "127.0.0.1"),
        ("10.1", "10.0.0.1"),
        ("10.1.1", "10.1.0.1"),
        ("2130706433", "127.0.0.1"),
        ("0x7f000001", "127.0.0.1"),
        ("0X7F000001", "127.0.0.1"),
        ("0177.0.0.1", "127.0.0.1"),
        ("0x7f.1", "127.0.0.1"),
        ("017700000001", "127.0.0.1"),
        ("127.0.0.1.", "127.0.0.1"),
        ("0x", "0.0.0.0"),  # noqa: S104 - a target to refuse, not an address to bind
        ("[::1]", "::1"),
        ("::1", "::1"),
        ("[::ffff:127.0.0.1]", "::ffff:7f00:1"),
        ("[fe80::1%25eth0]", "fe80::1%eth0"),
        ("fe80::1%eth0", "fe80::1%eth0"),
        ("[2002:0a00:0001::]", "2002:a00:1::"),
    ],
)
def test_literal_spellings_are_recognised(host: str, expected: str) -> None:
    assert literal_host_ip(host) == ipaddress.ip_address(expected)


@pytest.mark.parametrize("host", ["example.com", "crm.example.com.", "1e100.net", "0x7g.example", "deadbeef", "a-1.b"])
def test_names_are_not_literals(host: str) -> None:
    assert literal_host_ip(host) is None


@pytest.mark.parametrize(
    "host",
    ["1.2.3.4.5", "256.0.0.1", "1.16777216", "4294967296", "08.0.0.1", "0x1.09", "1..1", "foo.123", "[::1", "[zz]"],
)
def test_malformed_numeric_hosts_are_refused(host: str) -> None:
    with pytest.raises(ForbiddenTarget):
        literal_host_ip(host)


@pytest.mark.parametrize(
    "url",
    [
        "ftp://example.com/",
        "file:///etc/passwd",
        "gopher://example.com/",
        "javascript:alert(1)",
        "example.com/hooks",
        "http:///hooks",
        "http://user:secret@example.com/",
        "http://user@example.com/",
        "http://:@example.com/",
        "http://example.com\\@127.0.0.1/",
        "http://exa mple.com/",
        "http://example.com/\n",
        "http://example.com:0/",
        "http://example.com:65536/",
        "http://example.com:99999/",
        "http://-bad.example.com/",
        "http://a..b/",
        "http://under%5Fscore.example/",
        "http://1.2.3.4.5/",
        "http://[::1/",
    ],
)
def test_invalid_urls_are_refused(url: str) -> None:
    with pytest.raises(ForbiddenTarget):
        parse_target(url)


def test_parse_target_normalises() -> None:
    target = parse_target("https://CRM.Example.com/hooks?x=1")
    assert (target.scheme, target.host, target.port, target.ip) == ("https", "crm.example.com", 443, None)
    target = parse_target("http://example.com:8080/")
    assert (target.host, target.port) == ("example.com", 8080)
    assert parse_target("https://bücher.de/").host == "xn--bcher-kva.de"
    assert parse_target("http://[2606:4700:4700::1111]:81/").ip == ipaddress.ip_address("2606:4700:4700::1111")


@pytest.mark.parametrize("host", ["localhost", "api.localhost", "LOCALHOST."])
def test_loopback_names_are_refused_at_creation_unless_private_targets_are_allowed(host: str) -> None:
    with pytest.raises(ForbiddenTarget, match="loopback name"):
        vet_at_creation(f"https://{host}/", allow_private=False)
    vet_at_creation(f"https://{host}/", allow_private=True)


METADATA_NAMES = ["metadata.google.internal", "METADATA.GOOGLE.INTERNAL.", "metadata.goog", "metadata", "instance-data"]


@pytest.mark.parametrize("allow_private", [False, True])
@pytest.mark.parametrize("host", METADATA_NAMES)
async def test_metadata_names_are_refused_always(host: str, allow_private: bool) -> None:
    with pytest.raises(ForbiddenTarget, match="cloud metadata name"):
        vet_at_creation(f"http://{host}/computeMetadata/v1/", allow_private=allow_private)
    # At send time the name is refused before any lookup, whatever a resolver would answer.
    with pytest.raises(ForbiddenTarget, match="cloud metadata name"):
        await resolve_and_vet(host, 80, allow_private=allow_private, lookup=StaticLookup("8.8.8.8"))


def test_other_names_wait_for_send_time() -> None:
    vet_at_creation("https://crm.example.com/hooks", allow_private=False)


async def test_name_in_hosts_file_is_refused_at_send_time() -> None:
    name = hosts_file_name()
    if name is None:
        pytest.skip("no /etc/hosts name maps to an internal address here")
    vet_at_creation(f"https://{name}/", allow_private=False)
    with pytest.raises(ForbiddenTarget):
        await resolve_and_vet(name, 443, allow_private=False)


async def test_localhost_resolves_and_passes_with_allow_private() -> None:
    addresses = await resolve_and_vet("localhost", 80, allow_private=True)
    assert addresses
    assert all(address.is_loopback for address in addresses)


async def test_any_forbidden_answer_refuses_the_whole_name() -> None:
    lookup = StaticLookup("8.8.8.8", "10.0.0.1")
    with pytest.raises(ForbiddenTarget, match=r"10\.0\.0\.1"):
        await resolve_and_vet("crm.example.com", 443, allow_private=False, lookup=lookup)
    lookup = StaticLookup("8.8.4.4", "::ffff:127.0.0.1")
    with pytest.raises(ForbiddenTarget, match="IPv4-mapped"):
        await resolve_and_vet("crm.example.com", 443, allow_private=False, lookup=lookup)


async def test_public_answers_are_returned_once_each_in_order() -> None:
    lookup = StaticLookup("8.8.8.8", "2001:4860:4860::8888", "8.8.8.8")
    addresses = await resolve_and_vet("crm.example.com", 443, allow_private=False, lookup=lookup)
    assert addresses == [ipaddress.ip_address("8.8.8.8"), ipaddress.ip_address("2001:4860:4860::8888")]
    assert lookup.calls == [("crm.example.com", 443)]


async def test_literals_are_not_looked_up() -> None:
    lookup = StaticLookup("8.8.8.8")
    await resolve_and_vet("1.1.1.1", 443, allow_private=False, lookup=lookup)
    assert lookup.calls == []


async def test_empty_or_failed_resolution_is_an_os_error() -> None:
    with pytest.raises(OSError):
        await resolve_and_vet("crm.example.com", 443, allow_private=False, lookup=StaticLookup())
    with pytest.raises(socket.gaierror):
        await resolve_and_vet("does-not-exist.invalid", 443, allow_private=False)


def test_reasons_name_the_range() -> None:
    assert is_forbidden_ip("169.254.169.254") == "cloud metadata service (AWS, GCP, Azure, OCI, DigitalOcean)"
    assert "loopback" in (is_forbidden_ip("::ffff:127.0.0.1") or "")
    assert "6to4" in (is_forbidden_ip("2002:a00:1::") or "")
    assert "NAT64" in (is_forbidden_ip("64:ff9b::a00:1") or "")
    assert "RFC 6598" in (is_forbidden_ip("100.64.0.1") or "")
    assert is_forbidden_ip("8.8.8.8") is None
