"""A real HTTP/1.1 receiver on loopback for webhook tests: records each request, answers as scripted."""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import dataclass, field

HANG = -1  # a scripted status meaning: read the request, then never answer


@dataclass
class Received:
    """One request as the receiver saw it."""

    headers: dict[str, str]
    body: bytes


@dataclass
class Receiver:
    """Answers with ``script[i]`` for the i-th request (then the last one), recording every request."""

    script: list[tuple[int, dict[str, str]]] = field(default_factory=lambda: [(200, {})])
    requests: list[Received] = field(default_factory=list)
    port: int = 0
    released: asyncio.Event = field(default_factory=asyncio.Event)
    on_request: Callable[[Received], None] | None = None

    @property
    def url(self) -> str:
        """Where to send."""
        return f"http://127.0.0.1:{self.port}/hook"

    async def handle(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        """Serve one connection (one request, then close)."""
        try:
            head = await reader.readuntil(b"\r\n\r\n")
            lines = head.decode("latin-1").split("\r\n")[1:]
            headers = {k.strip().lower(): v.strip() for k, _, v in (line.partition(":") for line in lines if line)}
            body = await reader.readexactly(int(headers.get("content-length", "0")))
            request = Received(headers, body)
            index = len(self.requests)
            self.requests.append(request)
            if self.on_request is not None:
                self.on_request(request)
            status, extra = self.script[min(index, len(self.script) - 1)]
            if status == HANG:
                await self.released.wait()
                return
            extra_lines = "".join(f"{k}: {v}\r\n" for k, v in extra.items())
            writer.write(f"HTTP/1.1 {status} X\r\ncontent-length: 0\r\nconnection: close\r\n{extra_lines}\r\n".encode())
            await writer.drain()
        except (asyncio.IncompleteReadError, ConnectionError):
            pass
        finally:
            writer.close()
            with contextlib.suppress(Exception):
                await writer.wait_closed()


@asynccontextmanager
async def running_receiver(*script: tuple[int, dict[str, str]]) -> AsyncIterator[Receiver]:
    """A receiver listening on a free loopback port for the duration of the block."""
    receiver = Receiver(script=list(script) or [(200, {})])
    server = await asyncio.start_server(receiver.handle, "127.0.0.1", 0)
    receiver.port = server.sockets[0].getsockname()[1]
    try:
        yield receiver
    finally:
        receiver.released.set()
        server.close()
        await server.wait_closed()
