"""A webhook receiver on a real socket that counts deliveries per message, and can be taken down and up.

It runs an HTTP server in a thread of its own, so it answers while the test's event loop is busy
(starting a process blocks it). Down means no listening socket at all: the analyzer's connections are
refused, as they are by a crashed receiver. Every delivery's signature is checked with the
subscription's secret (Standard Webhooks), so a count only ever includes genuine messages.
"""

from __future__ import annotations

import hmac
import json
import threading
from collections import Counter
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from services.analyzer.webhooks.signing import sign


@dataclass(frozen=True, slots=True)
class Delivery:
    """One request the receiver answered 2xx to."""

    webhook_id: str
    event_type: str
    alert_id: str
    signed: bool


class WebhookReceiver:
    """Records deliveries by ``webhook-id``; ``down()`` closes the socket, ``up()`` listens again on the same port."""

    def __init__(self) -> None:
        self.port = 0
        self.secret: str | None = None
        self._lock = threading.Lock()
        self._deliveries: list[Delivery] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None

    @property
    def url(self) -> str:
        """Where subscriptions send."""
        return f"http://127.0.0.1:{self.port}/hook"

    def up(self) -> None:
        """Listen (on a free port the first time, on the same port afterwards)."""
        receiver = self

        class Handler(BaseHTTPRequestHandler):
            def do_POST(self) -> None:
                length = int(self.headers.get("content-length", "0"))
                body = self.rfile.read(length)
                # A sender killed mid-request leaves a cut body: not a delivery, and no one reads the answer.
                complete = len(body) == length and receiver._record(dict(self.headers.items()), body)
                self.send_response(204 if complete else 400)
                self.send_header("content-length", "0")
                self.end_headers()

            def log_message(self, format: str, *args: object) -> None:
                return  # quiet: the test prints figures, not an access log

        server = ThreadingHTTPServer(("127.0.0.1", self.port), Handler)
        server.daemon_threads = True
        self.port = int(server.server_address[1])
        self._server = server
        self._thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True)
        self._thread.start()

    def down(self) -> None:
        """Stop listening: new connections are refused until ``up()``."""
        if self._server is not None:
            self._server.shutdown()
            self._server.server_close()
            self._server = None
        if self._thread is not None:
            self._thread.join(5)
            self._thread = None

    def _record(self, headers: dict[str, str], body: bytes) -> bool:
        """Keep one delivery; False for a request that is not one."""
        lowered = {k.lower(): v for k, v in headers.items()}
        webhook_id = lowered.get("webhook-id", "")
        try:
            message = json.loads(body)
            delivery = Delivery(webhook_id, message["type"], message["data"]["alert_id"], self._signed(lowered, body))
        except (ValueError, KeyError, TypeError):
            return False
        with self._lock:
            self._deliveries.append(delivery)
        return True

    def _signed(self, headers: dict[str, str], body: bytes) -> bool:
        webhook_id, stamp = headers.get("webhook-id", ""), headers.get("webhook-timestamp", "")
        if self.secret is None or not webhook_id or not stamp.isdigit():
            return False
        expected = sign(self.secret, webhook_id, int(stamp), body)
        return any(hmac.compare_digest(expected, s) for s in headers.get("webhook-signature", "").split())

    def deliveries(self) -> list[Delivery]:
        """Every delivery so far, in arrival order."""
        with self._lock:
            return list(self._deliveries)

    def per_message(self) -> Counter[str]:
        """How many times each ``webhook-id`` arrived."""
        return Counter(d.webhook_id for d in self.deliveries())
