"""The pinned transport against real receivers on loopback: it connects to the vetted address and nowhere else."""

from __future__ import annotations

import asyncio
import ipaddress
import shutil
import socket
import ssl
import subprocess
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
import pytest

from services.analyzer.webhooks.ssrf import ForbiddenTarget, IPAddress, PinnedTransport

NAME = "crm.example.test"
ALIAS = "alias.example.test"


@dataclass
class SeenRequest:
    """What the receiver saw of one request."""

    request_line: str
    host: str
    local_address: str
    connection: int
    body: bytes


@dataclass
class Receiver:
    """A minimal HTTP/1.1 receiver that records every request and TLS server name it sees."""

    address: str
    port: int = 0
    requests: list[SeenRequest] = field(default_factory=list)
    server_names: list[str | None] = field(default_factory=list)
    connections: int = 0
    closed: int = 0

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Answer 204 to every request on one keep-alive connection."""
        self.connections += 1
        connection = self.connections
        try:
            while True:
                try:
                    head = await reader.readuntil(b"\r\n\r\n")
                except asyncio.IncompleteReadError:
                    return
                request_line, *header_lines = head.decode("latin-1").split("\r\n")
                headers = {
                    name.strip().lower(): value.strip()
                    for name, _, value in (line.partition(":") for line in header_lines if line)
                }
                body = await reader.readexactly(int(headers.get("content-length", "0")))
                local_address = writer.get_extra_info("sockname")[0]
                host = headers.get("host", "")
                self.requests.append(SeenRequest(request_line, host, local_address, connection, body))
                writer.write(b"HTTP/1.1 204 No Content\r\n\r\n")
                await writer.drain()
        finally:
            self.closed += 1
            writer.close()
            await writer.wait_closed()


class StaticLookup:
    """A DNS stand-in that answers with fixed addresses and counts the lookups."""

    def __init__(self, *addresses: str) -> None:
        self.addresses = [ipaddress.ip_address(address) for address in addresses]
        self.calls: list[str] = []

    async def __call__(self, host: str, port: int) -> Sequence[IPAddress]:
        """Answer one lookup."""
        self.calls.append(host)
        return self.addresses


@asynccontextmanager
async def run_receiver(address: str, *, port: int = 0, tls: ssl.SSLContext | None = None) -> AsyncIterator[Receiver]:
    """Serve a `Receiver` on `address` and `port` (0: chosen by the system) for the duration of the block."""
    receiver = Receiver(address)
    if tls is not None:
        tls.sni_callback = lambda _socket, server_name, _context: receiver.server_names.append(server_name)
    server = await asyncio.start_server(receiver.handle, address, port, ssl=tls)
    receiver.port = server.sockets[0].getsockname()[1]
    try:
        yield receiver
    finally:
        server.close()
        await server.wait_closed()


def create_certificate(directory: Path) -> tuple[Path, Path]:
    """Create a self-signed certificate for NAME and ALIAS with the openssl command line."""
    if shutil.which("openssl") is None:
        pytest.skip("openssl is not installed")
    certificate, key = directory / "cert.pem", directory / "key.pem"
    subprocess.run(
        [
            "openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
            "-keyout", str(key), "-out", str(certificate), "-days", "1", "-subj", f"/CN={NAME}",
            "-addext", f"subjectAltName=DNS:{NAME},DNS:{ALIAS}",
        ],
        check=True,
        capture_output=True,
    )  # fmt: skip
    return certificate, key


def forbid_system_resolution_of(monkeypatch: pytest.MonkeyPatch, *names: str) -> list[str]:
    """Make the system resolver fail loudly for `names`, and return the names it was asked for."""
    asked: list[str] = []
    real = socket.getaddrinfo

    def guarded(host: Any, *args: Any, **kwargs: Any) -> Any:
        asked.append(str(host))
        if host in names or (isinstance(host, bytes) and host.decode() in names):
            raise AssertionError(f"{host} was resolved again after vetting")
        return real(host, *args, **kwargs)

    monkeypatch.setattr(socket, "getaddrinfo", guarded)
    return asked


def create_client(transport: PinnedTransport) -> httpx.AsyncClient:
    """Return a client as the dispatcher would use it: pinned transport, no redirects."""
    return httpx.AsyncClient(transport=transport, follow_redirects=False, timeout=5.0)


async def test_connects_to_vetted_address_with_host_header_of_the_name(monkeypatch: pytest.MonkeyPatch) -> None:
    lookup = StaticLookup("127.0.0.2")
    asked = forbid_system_resolution_of(monkeypatch, NAME)
    transport = PinnedTransport(allow_private=True, lookup=lookup)
    async with run_receiver("127.0.0.2") as receiver, create_client(transport) as client:
        response = await client.post(f"http://{NAME}:{receiver.port}/hooks?x=1", content=b'{"a": 1}')
    assert response.status_code == 204
    assert str(response.request.url) == f"http://{NAME}:{receiver.port}/hooks?x=1"
    [seen] = receiver.requests
    assert seen.host == f"{NAME}:{receiver.port}"
    assert seen.local_address == "127.0.0.2"
    assert seen.request_line == "POST /hooks?x=1 HTTP/1.1"
    assert seen.body == b'{"a": 1}'
    assert lookup.calls == [NAME]
    assert NAME not in asked


async def test_each_request_resolves_once_and_uses_that_answer() -> None:
    answers = iter(["127.0.0.2", "127.0.0.3"])

    async def rebinding_lookup(host: str, port: int) -> Sequence[IPAddress]:
        return [ipaddress.ip_address(next(answers))]

    transport = PinnedTransport(allow_private=True, lookup=rebinding_lookup)
    async with (
        run_receiver("127.0.0.2") as first,
        run_receiver("127.0.0.3", port=first.port) as second,
        create_client(transport) as client,
    ):
        await client.get(f"http://{NAME}:{first.port}/")
        await client.get(f"http://{NAME}:{first.port}/")
    # Each request went where its own vetted answer pointed; the keep-alive connection to .2 was not reused.
    assert [(seen.local_address, seen.host) for seen in first.requests] == [("127.0.0.2", f"{NAME}:{first.port}")]
    assert [(seen.local_address, seen.host) for seen in second.requests] == [("127.0.0.3", f"{NAME}:{first.port}")]


async def test_forbidden_answer_never_connects() -> None:
    async with run_receiver("127.0.0.1") as receiver:
        transport = PinnedTransport(allow_private=False, lookup=StaticLookup("127.0.0.1"))
        async with create_client(transport) as client:
            with pytest.raises(ForbiddenTarget, match="loopback"):
                await client.post(f"http://{NAME}:{receiver.port}/", content=b"{}")
            with pytest.raises(ForbiddenTarget):
                await client.post(f"http://127.0.0.1:{receiver.port}/", content=b"{}")
            with pytest.raises(ForbiddenTarget):
                await client.post(f"http://2130706433:{receiver.port}/", content=b"{}")
    assert receiver.requests == []
    assert receiver.connections == 0


async def test_real_resolver_pins_localhost_when_private_targets_are_allowed() -> None:
    async with run_receiver("127.0.0.1") as receiver:
        async with create_client(PinnedTransport(allow_private=True)) as client:
            response = await client.get(f"http://localhost:{receiver.port}/ping")
        async with create_client(PinnedTransport(allow_private=False)) as client:
            with pytest.raises(ForbiddenTarget):
                await client.get(f"http://localhost:{receiver.port}/ping")
    assert response.status_code == 204
    [seen] = receiver.requests
    assert seen.host == f"localhost:{receiver.port}"


async def test_numeric_spelling_is_pinned_to_its_canonical_address() -> None:
    async with run_receiver("127.0.0.1") as receiver, create_client(PinnedTransport(allow_private=True)) as client:
        response = await client.get(f"http://0x7f.1:{receiver.port}/")
    assert response.status_code == 204
    assert receiver.requests[0].host == f"0x7f.1:{receiver.port}"


async def test_next_vetted_address_is_tried_when_one_refuses_connections() -> None:
    async with run_receiver("127.0.0.2") as receiver:
        # Nothing listens on 127.0.0.4 at that port, so the connection is refused before anything is sent.
        lookup = StaticLookup("127.0.0.4", "127.0.0.2")
        async with create_client(PinnedTransport(allow_private=True, lookup=lookup)) as client:
            response = await client.get(f"http://{NAME}:{receiver.port}/")
    assert response.status_code == 204
    assert [seen.local_address for seen in receiver.requests] == ["127.0.0.2"]


async def test_unresolvable_name_is_a_connect_error() -> None:
    async def failing_lookup(host: str, port: int) -> Sequence[IPAddress]:
        raise socket.gaierror(socket.EAI_NONAME, "Name or service not known")

    async with create_client(PinnedTransport(allow_private=True, lookup=failing_lookup)) as client:
        with pytest.raises(httpx.ConnectError, match="could not resolve"):
            await client.get(f"http://{NAME}/")


async def test_slow_lookup_is_bounded_by_the_connect_timeout() -> None:
    async def hanging_lookup(host: str, port: int) -> Sequence[IPAddress]:
        await asyncio.sleep(10)
        return []

    transport = PinnedTransport(allow_private=True, lookup=hanging_lookup)
    async with httpx.AsyncClient(transport=transport, timeout=httpx.Timeout(5.0, connect=0.1)) as client:
        with pytest.raises(httpx.ConnectTimeout):
            await client.get(f"http://{NAME}/")


async def test_redirects_are_vetted_like_any_request() -> None:
    async def redirecting(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.readuntil(b"\r\n\r\n")
        writer.write(b"HTTP/1.1 307 Temporary Redirect\r\nLocation: http://169.254.169.254/latest/\r\n\r\n")
        await writer.drain()
        writer.close()
        await writer.wait_closed()

    server = await asyncio.start_server(redirecting, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    try:
        transport = PinnedTransport(allow_private=True, lookup=StaticLookup("127.0.0.1"))
        async with httpx.AsyncClient(transport=transport, follow_redirects=True, timeout=5.0) as client:
            with pytest.raises(ForbiddenTarget, match="metadata"):
                await client.get(f"http://{NAME}:{port}/")
    finally:
        server.close()
        await server.wait_closed()


async def test_tls_uses_the_name_for_sni_and_certificate_and_pools_per_name(tmp_path: Path) -> None:
    certificate, key = create_certificate(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(certificate, key)
    client_tls = ssl.create_default_context(cafile=str(certificate))
    transport = PinnedTransport(allow_private=True, verify=client_tls, lookup=StaticLookup("127.0.0.1"))
    async with run_receiver("127.0.0.1", tls=server_tls) as receiver, create_client(transport) as client:
        for name in (NAME, NAME, ALIAS):
            response = await client.get(f"https://{name}:{receiver.port}/hooks")
            assert response.status_code == 204
    assert receiver.server_names == [NAME, ALIAS]
    assert [(seen.host, seen.connection) for seen in receiver.requests] == [
        (f"{NAME}:{receiver.port}", 1),
        (f"{NAME}:{receiver.port}", 1),  # kept alive and reused for the same name
        (f"{ALIAS}:{receiver.port}", 2),  # never reused across names, even on the same address
    ]


async def test_tls_certificate_is_checked_against_the_name_not_the_address(tmp_path: Path) -> None:
    certificate, key = create_certificate(tmp_path)
    server_tls = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server_tls.load_cert_chain(certificate, key)
    client_tls = ssl.create_default_context(cafile=str(certificate))
    transport = PinnedTransport(allow_private=True, verify=client_tls, lookup=StaticLookup("127.0.0.1"))
    async with run_receiver("127.0.0.1", tls=server_tls) as receiver, create_client(transport) as client:
        with pytest.raises(httpx.ConnectError, match=r"CERTIFICATE_VERIFY_FAILED|hostname"):
            await client.get(f"https://other.example.test:{receiver.port}/")
    assert receiver.requests == []


async def test_closing_the_client_closes_the_connections_of_every_name() -> None:
    async with run_receiver("127.0.0.2") as receiver:
        async with create_client(PinnedTransport(allow_private=True, lookup=StaticLookup("127.0.0.2"))) as client:
            await client.get(f"http://{NAME}:{receiver.port}/")
            await client.get(f"http://{ALIAS}:{receiver.port}/")
            assert (receiver.connections, receiver.closed) == (2, 0)
        async with asyncio.timeout(5):
            while receiver.closed < receiver.connections:
                await asyncio.sleep(0.01)
    assert receiver.closed == 2
