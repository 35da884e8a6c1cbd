"""Who the client is: the connection's peer, or the client a trusted proxy names in ``X-Forwarded-For``.

Both services identify a client by address for their failed-authentication limit. Behind a proxy
every request comes from the proxy, so the proxy's ``X-Forwarded-For`` names the client instead, but
only when the peer is one of the configured trusted proxies (``INGEST_TRUSTED_PROXIES``,
``ANALYZER_TRUSTED_PROXIES``): anyone else could write any address there.

Each proxy appends the address it received the request from, so the header is read from the right:
the first address that is not itself a trusted proxy is the client. Everything to its left was
written by that client and proves nothing. "Trust every peer" (``*``) is refused, since with it the
left-most, client-chosen entry would decide.

An IPv6 client usually holds a whole /64 (and can pick any address in it), so limits group IPv6
addresses by /64 (``client_network``).
"""

from __future__ import annotations

import ipaddress
from collections.abc import Sequence
from typing import Annotated, Final

from pydantic import BeforeValidator
from pydantic_settings import NoDecode
from starlette.types import ASGIApp, Receive, Scope, Send

Network = ipaddress.IPv4Network | ipaddress.IPv6Network

IPV6_CLIENT_PREFIX: Final = 64


def parse_trusted_proxies(value: object) -> tuple[Network, ...]:
    """``10.0.0.5, 172.16.0.0/12, ::1`` as networks; "" for none.

    Raises ``ValueError`` (a settings error naming the setting) for ``*`` and for anything that is
    not an address or a network: a host name would never match a peer's address, so it would
    silently trust nothing.
    """
    if isinstance(value, tuple | list):
        items = [str(v) for v in value]
    elif isinstance(value, str):
        items = [part.strip() for part in value.split(",") if part.strip()]
    else:
        raise ValueError("expected comma-separated addresses or networks")
    networks = []
    for item in items:
        if item == "*":
            raise ValueError(
                '"*" would trust every peer, so any client could choose its own address; '
                "list the proxies' addresses or networks"
            )
        try:
            networks.append(ipaddress.ip_network(item, strict=False))
        except ValueError:
            raise ValueError(f"{item!r} is not an IP address or network (host names are not accepted)") from None
    return tuple(networks)


TrustedProxies = Annotated[tuple[Network, ...], NoDecode, BeforeValidator(parse_trusted_proxies)]


def _address(value: str) -> ipaddress.IPv4Address | ipaddress.IPv6Address | None:
    """An address from a header entry or peer (``1.2.3.4``, ``1.2.3.4:5``, ``[::1]:5``, ``::1``), else None."""
    value = value.strip()
    if value.startswith("["):
        value = value[1 : value.find("]")] if "]" in value else value
    elif value.count(":") == 1:
        value = value.partition(":")[0]
    try:
        address = ipaddress.ip_address(value)
    except ValueError:
        return None
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        return address.ipv4_mapped
    return address


def _trusted(address: ipaddress.IPv4Address | ipaddress.IPv6Address, trusted: Sequence[Network]) -> bool:
    return any(address in network for network in trusted)


def forwarded_client(peer: str, forwarded_for: Sequence[str], trusted: Sequence[Network]) -> str:
    """The client's address: ``peer``, or the right-most untrusted hop of ``X-Forwarded-For``.

    ``forwarded_for`` holds the header's values in order (a request may carry several). A peer that
    is not trusted is the client, whatever it sent. Entries that are not addresses end the walk: the
    hop before them is answered, since nothing left of a forged entry can be believed.
    """
    address = _address(peer)
    if address is None or not _trusted(address, trusted):
        return peer
    client = address
    hops = [hop for value in forwarded_for for hop in value.split(",")]
    for hop in reversed(hops):
        parsed = _address(hop)
        if parsed is None:
            break
        client = parsed
        if not _trusted(parsed, trusted):
            break
    return str(client)


def client_network(address: str) -> str:
    """What a limit counts as one client: an IPv4 address, or the /64 of an IPv6 address."""
    parsed = _address(address)
    if isinstance(parsed, ipaddress.IPv6Address):
        return str(ipaddress.IPv6Network((parsed, IPV6_CLIENT_PREFIX), strict=False))
    return address if parsed is None else str(parsed)


class ForwardedClient:
    """ASGI middleware: the request's ``client`` is the one ``forwarded_client`` finds.

    Replaces uvicorn's proxy-header handling (turned off), so that one implementation decides in
    both services and in every way they are run. From a trusted peer, ``X-Forwarded-Proto`` (http or
    https) also sets the scheme the request is seen with.
    """

    def __init__(self, app: ASGIApp, trusted: Sequence[Network]) -> None:
        self.app = app
        self.trusted = tuple(trusted)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] in ("http", "websocket") and scope.get("client") and self.trusted:
            peer = scope["client"][0]
            peer_address = _address(peer)
            if peer_address is not None and _trusted(peer_address, self.trusted):
                headers = scope["headers"]
                forwarded = [v.decode("latin-1") for k, v in headers if k == b"x-forwarded-for"]
                # In place, as uvicorn does: outer middleware (the metrics) reads what the router adds.
                scope["client"] = (forwarded_client(peer, forwarded, self.trusted), 0)
                proto = [v.decode("latin-1").strip() for k, v in headers if k == b"x-forwarded-proto"]
                if scope["type"] == "http" and proto and proto[0] in ("http", "https"):
                    scope["scheme"] = proto[0]
        await self.app(scope, receive, send)
