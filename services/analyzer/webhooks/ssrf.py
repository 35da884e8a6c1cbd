"""Outbound target vetting: subscribers must not point the analyzer at internal addresses (SSRF).

Two checks, both needed:

- at creation, `vet_at_creation` refuses malformed URLs and hosts that are literal forbidden addresses, in every
  spelling resolvers and browsers accept (`2130706433`, `0x7f.1`, `0177.0.0.1`, `[::ffff:127.0.0.1]`, ...);
- at send time, `PinnedTransport` resolves the host name, refuses it if any address is forbidden, and connects
  to a vetted address only, keeping the name in the Host header and in TLS (SNI and certificate check). The name
  is resolved once per request and never again by the socket layer, so a DNS answer that changes between the
  check and the connection (DNS rebinding) cannot reach an internal address.

`allow_private` (`WEBHOOK_ALLOW_PRIVATE_TARGETS`) lifts the refusal of loopback, private, link-local, shared and
test ranges for local use and tests. It never lifts cloud metadata endpoints, multicast, broadcast, unspecified
or reserved addresses: none of them is a sensible webhook receiver, and metadata endpoints hold credentials.
Documentation and benchmarking ranges are refused: nothing legitimate listens there on the public internet.
"""

from __future__ import annotations

import asyncio
import ipaddress
import re
import socket
import ssl
import unicodedata
import urllib.parse
from collections import OrderedDict
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from typing import Any, TypeAlias

import httpx

IPAddress: TypeAlias = ipaddress.IPv4Address | ipaddress.IPv6Address
Lookup: TypeAlias = Callable[[str, int], Awaitable[Sequence[IPAddress]]]

ALLOWED_SCHEMES = frozenset({"http", "https"})
DEFAULT_PORTS = {"http": 80, "https": 443}
# Documented cloud metadata host names: refused always, before any DNS, at creation and at send time.
_METADATA_NAMES = frozenset(
    {"metadata.google.internal", "metadata.goog", "metadata", "instance-data", "instance-data.ec2.internal"},
)
_HOST_NAME_MAX = 253
_PORT_MAX = 65535
_IPV4_PARTS = 4
_OCTET_MAX = 255
_HOST_NAME = re.compile(r"^(?!-)[a-z0-9_-]{1,63}(?<!-)(\.(?!-)[a-z0-9_-]{1,63}(?<!-))*\.?$")
# Browsers map these full stops to "." before parsing a host (UTS #46); NFKC handles full-width digits.
_FULL_STOPS = str.maketrans({"\u3002": ".", "\uff0e": ".", "\uff61": "."})


class ForbiddenTarget(ValueError):
    """A webhook target that must not be contacted; `reason` says why."""

    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True, slots=True)
class Target:
    """A parsed webhook URL: scheme, ASCII host, effective port and the host's literal address if it is one."""

    url: str
    scheme: str
    host: str
    port: int
    ip: IPAddress | None


@dataclass(frozen=True, slots=True)
class _Rule:
    """Why an address is forbidden, and whether `allow_private` lifts it."""

    reason: str
    liftable: bool


_Table: TypeAlias = tuple[tuple[ipaddress.IPv4Network | ipaddress.IPv6Network, _Rule], ...]


def _table(*rows: tuple[str, str, bool]) -> _Table:
    """Build an ordered rule table; the first matching row gives the reason."""
    return tuple((ipaddress.ip_network(net), _Rule(reason, liftable)) for net, reason, liftable in rows)


_IPV4_RULES = _table(
    ("255.255.255.255/32", "limited broadcast address", False),
    ("169.254.169.254/32", "cloud metadata service (AWS, GCP, Azure, OCI, DigitalOcean)", False),
    ("169.254.170.2/32", "container credentials endpoint (AWS ECS)", False),
    ("100.100.100.200/32", "cloud metadata service (Alibaba Cloud)", False),
    ("168.63.129.16/32", "cloud platform endpoint (Azure WireServer)", False),
    ("192.0.0.192/32", "cloud metadata service (Oracle Cloud, legacy)", False),
    ("0.0.0.0/8", "unspecified / 'this network' address (0.0.0.0/8)", False),
    ("127.0.0.0/8", "loopback address (127.0.0.0/8)", True),
    ("10.0.0.0/8", "private address (RFC 1918, 10.0.0.0/8)", True),
    ("172.16.0.0/12", "private address (RFC 1918, 172.16.0.0/12)", True),
    ("192.168.0.0/16", "private address (RFC 1918, 192.168.0.0/16)", True),
    ("100.64.0.0/10", "carrier-grade NAT shared address (RFC 6598, 100.64.0.0/10)", True),
    ("169.254.0.0/16", "link-local address (169.254.0.0/16)", True),
    ("192.0.0.0/24", "IETF protocol assignment (192.0.0.0/24)", True),
    ("192.0.2.0/24", "documentation address (TEST-NET-1)", True),
    ("198.51.100.0/24", "documentation address (TEST-NET-2)", True),
    ("203.0.113.0/24", "documentation address (TEST-NET-3)", True),
    ("192.88.99.0/24", "deprecated 6to4 relay anycast (192.88.99.0/24)", True),
    ("198.18.0.0/15", "benchmarking address (198.18.0.0/15)", True),
    ("224.0.0.0/4", "multicast address (224.0.0.0/4)", False),
    ("240.0.0.0/4", "reserved address (240.0.0.0/4)", False),
)

_IPV6_RULES = _table(
    ("::/128", "unspecified address (::)", False),
    ("::1/128", "loopback address (::1)", True),
    ("fd00:ec2::254/128", "cloud metadata service (AWS IPv6)", False),
    ("::/96", "deprecated IPv4-compatible address (::/96)", False),
    ("::ffff:0:0:0/96", "IPv4-translated address (::ffff:0:0:0/96)", False),
    ("64:ff9b:1::/48", "local-use NAT64 address (64:ff9b:1::/48)", True),
    ("100::/64", "discard-only address (100::/64)", False),
    ("2001::/32", "Teredo tunnel address (2001::/32)", False),
    ("2001:2::/48", "benchmarking address (2001:2::/48)", True),
    ("2001:10::/28", "ORCHID overlay identifier (2001:10::/28)", False),
    ("2001:20::/28", "ORCHIDv2 overlay identifier (2001:20::/28)", False),
    ("2001:db8::/32", "documentation address (2001:db8::/32)", True),
    ("3fff::/20", "documentation address (3fff::/20)", True),
    ("2001::/23", "IETF protocol assignment (2001::/23)", False),
    ("5f00::/16", "SRv6 segment identifier (5f00::/16)", False),
    ("fc00::/7", "unique local address (fc00::/7)", True),
    ("fe80::/10", "link-local address (fe80::/10)", True),
    ("fec0::/10", "deprecated site-local address (fec0::/10)", True),
    ("ff00::/8", "multicast address (ff00::/8)", False),
)

_GLOBAL_UNICAST = ipaddress.IPv6Network("2000::/3")
_NAT64 = ipaddress.IPv6Network("64:ff9b::/96")
# A safety net for ranges that the standard library learns about after these tables were written.
_NOT_GLOBAL = _Rule("address that is not globally routable", False)


def _lookup_rule(ip: IPAddress, table: _Table) -> _Rule | None:
    """Return the first rule of `table` whose network holds `ip`."""
    for network, rule in table:
        if ip in network:
            return rule
    return None


def _match_ipv4(ip: ipaddress.IPv4Address) -> _Rule | None:
    """Return the rule that forbids `ip`, if any."""
    rule = _lookup_rule(ip, _IPV4_RULES)
    if rule is None and not ip.is_global:
        return _NOT_GLOBAL
    return rule


def _embedded(kind: str, inner: ipaddress.IPv4Address) -> _Rule | None:
    """Judge an IPv6 address by the IPv4 address it carries, since that is where the packets end up."""
    rule = _match_ipv4(inner)
    if rule is None:
        return None
    return _Rule(f"{kind} of {inner}: {rule.reason}", rule.liftable)


def _match_ipv6(ip: ipaddress.IPv6Address) -> _Rule | None:
    """Return the rule that forbids `ip`, looking through the IPv4 address of mapped, NAT64 and 6to4 forms."""
    if ip.scope_id:
        return _Rule("IPv6 address with a zone identifier", False)
    if ip.ipv4_mapped is not None:
        return _embedded("IPv4-mapped address", ip.ipv4_mapped)
    if ip in _NAT64:
        return _embedded("NAT64 address", ipaddress.IPv4Address(int(ip) & 0xFFFFFFFF))
    if ip.sixtofour is not None:
        return _embedded("6to4 address", ip.sixtofour)
    rule = _lookup_rule(ip, _IPV6_RULES)
    if rule is None and ip not in _GLOBAL_UNICAST:
        return _Rule("reserved address (outside global unicast 2000::/3)", False)
    if rule is None and not ip.is_global:
        return _NOT_GLOBAL
    return rule


def is_forbidden_ip(ip: IPAddress | str, *, allow_private: bool = False) -> str | None:
    """Return why `ip` must not be contacted, or None when it may be."""
    address = ipaddress.ip_address(ip) if isinstance(ip, str) else ip
    rule = _match_ipv4(address) if isinstance(address, ipaddress.IPv4Address) else _match_ipv6(address)
    if rule is None or (allow_private and rule.liftable):
        return None
    return rule.reason


def _ipv4_number(part: str) -> int | None:
    """Parse one dotted part the way inet_aton and the WHATWG URL parser do: 0x hex, leading-zero octal, decimal."""
    if not part:
        return None
    if part.startswith("0x"):
        digits, base, alphabet = part[2:], 16, "0123456789abcdef"
    elif len(part) > 1 and part.startswith("0"):
        digits, base, alphabet = part[1:], 8, "01234567"
    else:
        digits, base, alphabet = part, 10, "0123456789"
    if not digits:
        return 0
    if any(char not in alphabet for char in digits):
        return None
    return int(digits, base)


def _parse_ipv4(host: str) -> ipaddress.IPv4Address | None:
    """Return the address a numeric host spells (`127.1`, `2130706433`, `0x7f.1`, ...), None for a name."""
    parts = host.split(".")
    if len(parts) > 1 and parts[-1] == "":
        parts.pop()
    # Like browsers, a host whose last label is a number is an IPv4 address or an error, never a name.
    if not (parts[-1].isascii() and parts[-1].isdigit()) and _ipv4_number(parts[-1]) is None:
        return None
    numbers = [_ipv4_number(part) for part in parts]
    valid = [number for number in numbers if number is not None]
    if len(parts) > _IPV4_PARTS or len(valid) != len(parts):
        raise ForbiddenTarget(f"host {host!r} is numeric but not a valid IPv4 address")
    *leading, last = valid
    if any(number > _OCTET_MAX for number in leading) or last >= 1 << (8 * (_IPV4_PARTS - len(leading))):
        raise ForbiddenTarget(f"host {host!r} is numeric but out of the IPv4 range")
    value = last + sum(number << (8 * (3 - index)) for index, number in enumerate(leading))
    return ipaddress.IPv4Address(value)


def _parse_ipv6(host: str, original: str) -> ipaddress.IPv6Address:
    """Parse an IPv6 literal, zone identifier included."""
    try:
        return ipaddress.IPv6Address(host)
    except ValueError as exc:
        raise ForbiddenTarget(f"host {original!r} is not a valid IPv6 address") from exc


def literal_host_ip(host: str) -> IPAddress | None:
    """Return the address a literal host spells, None when it is a name; raise `ForbiddenTarget` if malformed."""
    # Percent-decoding also turns an RFC 6874 zone (`%25eth0`) into the `%eth0` form ipaddress understands.
    text = unicodedata.normalize("NFKC", urllib.parse.unquote(host)).translate(_FULL_STOPS).lower()
    if not text:
        return None
    if text.startswith("[") or text.endswith("]"):
        if not (text.startswith("[") and text.endswith("]")):
            raise ForbiddenTarget(f"host {host!r} has unbalanced brackets")
        return _parse_ipv6(text[1:-1], host)
    if ":" in text:
        return _parse_ipv6(text, host)
    return _parse_ipv4(text)


def parse_target(url: str) -> Target:
    """Parse and validate a webhook URL: http(s), a host, no credentials, a valid port."""
    if any(char.isspace() or not char.isprintable() or char == "\\" for char in url):
        # Parsers disagree on these (browsers read "\" as "/"); refusing them leaves no room for a differential.
        raise ForbiddenTarget("URL contains whitespace, control characters or backslashes")
    try:
        parsed = httpx.URL(url)
    except httpx.InvalidURL as exc:
        raise ForbiddenTarget(f"invalid URL: {exc}") from exc
    if parsed.scheme not in ALLOWED_SCHEMES:
        raise ForbiddenTarget(f"scheme must be http or https, not {parsed.scheme or 'missing'!r}")
    if parsed.userinfo:
        raise ForbiddenTarget("URL must not carry credentials (user:password@)")
    host = parsed.raw_host.decode("ascii").lower()
    if not host:
        raise ForbiddenTarget("URL has no host")
    port = parsed.port if parsed.port is not None else DEFAULT_PORTS[parsed.scheme]
    if not 1 <= port <= _PORT_MAX:
        raise ForbiddenTarget(f"port {port} is out of range")
    ip = literal_host_ip(host)
    if ip is None and (len(host.rstrip(".")) > _HOST_NAME_MAX or not _HOST_NAME.match(host)):
        raise ForbiddenTarget(f"host {host!r} is not a valid host name")
    return Target(url=str(parsed), scheme=parsed.scheme, host=host, port=port, ip=ip)


def vet_at_creation(url: str, allow_private: bool) -> None:
    """Raise `ForbiddenTarget` for an invalid URL or a host that is a forbidden literal; names wait for send time."""
    target = parse_target(url)
    if target.ip is not None:
        reason = is_forbidden_ip(target.ip, allow_private=allow_private)
        if reason is not None:
            raise ForbiddenTarget(reason)
        return
    refuse_reserved_name(target.host, allow_private=allow_private)


def refuse_reserved_name(host: str, *, allow_private: bool) -> None:
    """Raise `ForbiddenTarget` for a cloud metadata name (always) or a loopback name (unless allowed)."""
    name = host.rstrip(".").lower()
    if name in _METADATA_NAMES:
        raise ForbiddenTarget(f"host {name!r} is a cloud metadata name")
    if not allow_private and (name == "localhost" or name.endswith(".localhost")):
        raise ForbiddenTarget(f"host {name!r} is a loopback name")


async def system_lookup(host: str, port: int) -> list[IPAddress]:
    """Resolve `host` with the running loop's getaddrinfo, TCP addresses only."""
    loop = asyncio.get_running_loop()
    infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM, proto=socket.IPPROTO_TCP)
    return [
        ipaddress.ip_address(str(sockaddr[0]))
        for family, _, _, _, sockaddr in infos
        if family in (socket.AF_INET, socket.AF_INET6)
    ]


async def resolve_and_vet(
    host: str,
    port: int,
    allow_private: bool,
    *,
    lookup: Lookup | None = None,
) -> list[IPAddress]:
    """Return the addresses of `host` to connect to; raise `ForbiddenTarget` if any of them is forbidden."""
    literal = literal_host_ip(host)
    if literal is not None:
        addresses: Sequence[IPAddress] = [literal]
    else:
        refuse_reserved_name(host, allow_private=allow_private)
        addresses = await (lookup or system_lookup)(host, port)
    unique = list(dict.fromkeys(addresses))
    if not unique:
        raise OSError(f"{host!r} resolved to no address")
    # All or nothing: an answer mixing a public and an internal address is an attack, not a fallback list.
    for address in unique:
        reason = is_forbidden_ip(address, allow_private=allow_private)
        if reason is not None:
            raise ForbiddenTarget(f"{host} resolves to {address}: {reason}")
    return unique


def _pinned(request: httpx.Request, address: IPAddress, extensions: dict[str, Any]) -> httpx.Request:
    """Return a copy of `request` aimed at `address`, keeping its headers (Host included) and body."""
    return httpx.Request(
        request.method,
        request.url.copy_with(host=str(address)),
        headers=request.headers,
        stream=request.stream,
        extensions=extensions,
    )


@dataclass(slots=True)
class _Pool:
    """One origin's connection pool and how many of its responses are still open."""

    transport: httpx.AsyncHTTPTransport
    in_use: int = field(default=0)


class _Released(httpx.AsyncByteStream):
    """A response body that tells its pool when it is closed (the response is then no longer in use)."""

    def __init__(self, stream: httpx.AsyncByteStream, release: Callable[[], None]) -> None:
        self._stream, self._release, self._done = stream, release, False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        async for chunk in self._stream:
            yield chunk

    async def aclose(self) -> None:
        try:
            await self._stream.aclose()
        finally:
            if not self._done:
                self._done = True
                self._release()


DEFAULT_MAX_POOLS = 256


class PinnedTransport(httpx.AsyncBaseTransport):
    """An httpx transport that resolves and vets each request's host, then connects to a vetted address only.

    Use it as `httpx.AsyncClient(transport=PinnedTransport(allow_private=...), follow_redirects=False)`.
    Passing a transport also stops httpx from routing through proxies from the environment, which would
    otherwise connect on our behalf. A forbidden target raises `ForbiddenTarget` (not an `httpx` error);
    a name that does not resolve raises `httpx.ConnectError`.

    The request goes to the vetted IP through httpx's documented `sni_hostname` extension, with the Host header
    and the TLS server name (SNI and certificate check) left on the original name. Connections are pooled per
    original origin, because httpx pools by URL and would otherwise reuse a TLS session verified for one name
    for another name hosted on the same address. At most `max_pools` pools are kept: past that, the least
    recently used pool with no response open is closed, so a stream of distinct origins cannot hold sockets
    and memory forever.
    """

    def __init__(
        self,
        *,
        allow_private: bool,
        verify: ssl.SSLContext | bool = True,
        limits: httpx.Limits | None = None,
        lookup: Lookup | None = None,
        max_pools: int = DEFAULT_MAX_POOLS,
    ) -> None:
        if max_pools < 1:
            raise ValueError("max_pools must be at least 1")
        self._max_pools = max_pools
        self._allow_private = allow_private
        self._ssl_context = verify if isinstance(verify, ssl.SSLContext) else httpx.create_ssl_context(verify=verify)
        self._limits = limits or httpx.Limits(max_connections=10, max_keepalive_connections=5)
        self._lookup = lookup
        # Least recently used first.
        self._pools: OrderedDict[tuple[str, str, int], _Pool] = OrderedDict()

    @property
    def origins(self) -> list[tuple[str, str, int]]:
        """The origins that have a pool now, least recently used first."""
        return list(self._pools)

    async def _pool(self, scheme: str, host: str, port: int) -> _Pool:
        """Return the connection pool of one original origin, creating it on first use (and evicting)."""
        key = (scheme, host, port)
        pool = self._pools.get(key)
        if pool is None:
            pool = _Pool(httpx.AsyncHTTPTransport(verify=self._ssl_context, limits=self._limits))
            self._pools[key] = pool
            await self._evict(keep=key)
        self._pools.move_to_end(key)
        return pool

    async def _evict(self, *, keep: tuple[str, str, int]) -> None:
        """Close the least recently used idle pools while there are more than `max_pools`.

        A pool with a response open is skipped (closing it would cut that response); the count then stays
        above the cap until it is released, bounded by the number of requests in flight. `keep` (the pool
        about to be used) is never closed.
        """
        excess = len(self._pools) - self._max_pools
        idle = [k for k, pool in self._pools.items() if pool.in_use == 0 and k != keep][:excess] if excess > 0 else []
        for key in idle:
            pool = self._pools.pop(key)
            await pool.transport.aclose()

    async def _send(self, pool: _Pool, request: httpx.Request) -> httpx.Response:
        """Send through `pool`, counting the response as in use until its body is closed."""
        pool.in_use += 1
        try:
            response = await pool.transport.handle_async_request(request)
        except BaseException:
            pool.in_use -= 1
            raise

        def release() -> None:
            pool.in_use -= 1

        if isinstance(response.stream, httpx.AsyncByteStream):
            response.stream = _Released(response.stream, release)
        else:
            release()  # not a stream this transport can follow (never so for httpx's own); counted as done
        return response

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        """Vet the request's host, then send it to the first vetted address that accepts a connection."""
        url = request.url
        host = url.raw_host.decode("ascii")
        port = url.port if url.port is not None else DEFAULT_PORTS.get(url.scheme, 0)
        # The client's connect timeout also bounds the lookup, which httpcore would otherwise have covered.
        connect_timeout = request.extensions.get("timeout", {}).get("connect")
        try:
            async with asyncio.timeout(connect_timeout):
                addresses = await resolve_and_vet(host, port, self._allow_private, lookup=self._lookup)
        except TimeoutError as exc:
            raise httpx.ConnectTimeout(f"resolving {host} timed out", request=request) from exc
        except OSError as exc:
            raise httpx.ConnectError(f"could not resolve {host}: {exc}", request=request) from exc
        extensions = dict(request.extensions)
        if url.scheme == "https" and literal_host_ip(host) is None:
            extensions["sni_hostname"] = host
        pool = await self._pool(url.scheme, host, port)
        for address in addresses[:-1]:
            try:
                return await self._send(pool, _pinned(request, address, extensions))
            except (httpx.ConnectError, httpx.ConnectTimeout):
                # Nothing was sent yet, so the next vetted address may be tried.
                continue
        return await self._send(pool, _pinned(request, addresses[-1], extensions))

    async def aclose(self) -> None:
        """Close every connection pool."""
        pools = list(self._pools.values())
        self._pools.clear()
        for pool in pools:
            await pool.transport.aclose()
