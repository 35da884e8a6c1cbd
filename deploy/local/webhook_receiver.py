"""A webhook receiver for trying the analyzer's alert webhooks locally (the README's tour).

``python -m deploy.local.webhook_receiver [--port 9000] [--secret whsec_...]`` listens on loopback and
prints one line per delivery: its type, the alert's type, severity and summary. With ``--secret`` (the
subscription's, shown once when it is created) it verifies each delivery's signature as a CRM must
(docs/webhooks.md) and answers 401 to one that does not verify. It answers 204 otherwise.
"""

from __future__ import annotations

import argparse
import json
import sys
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from services.analyzer.webhooks.signing import SignatureError, verify

MAX_BODY = 1_048_576


def verified(secret: str, headers: dict[str, str], body: bytes) -> bool:
    """The Standard Webhooks check a CRM makes (the analyzer's own verifier)."""
    try:
        verify(secret, body, headers)
    except SignatureError:
        return False
    return True


def handler(secret: str | None) -> type[BaseHTTPRequestHandler]:
    """A request handler that prints deliveries (and checks them with ``secret``)."""

    class Receiver(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("content-length") or 0)
            if length > MAX_BODY:
                self.send_response(413)
                self.end_headers()
                return
            body = self.rfile.read(length)
            headers = {k.lower(): v for k, v in self.headers.items()}
            if secret is not None and not verified(secret, headers, body):
                print("refused a delivery whose signature does not verify", file=sys.stderr, flush=True)
                self.send_response(401)
                self.end_headers()
                return
            try:
                message = json.loads(body)
                alert = message["data"]
                line = f"{message['type']:<19} {alert['type']:<24} {alert['severity']:<8} {alert['summary']}"
            except (ValueError, KeyError, TypeError):
                line = f"not an alert delivery: {body[:200]!r}"
            print(line, flush=True)
            self.send_response(204)
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            return  # one line per delivery is printed above; no access log

    return Receiver


def main(argv: list[str] | None = None) -> int:
    """Serve until Ctrl-C."""
    parser = argparse.ArgumentParser(prog="python -m deploy.local.webhook_receiver", description=__doc__)
    parser.add_argument("--port", type=int, default=9000)
    parser.add_argument("--secret", help="the subscription's secret (whsec_...), to verify signatures")
    args = parser.parse_args(argv)
    server = ThreadingHTTPServer(("127.0.0.1", args.port), handler(args.secret))
    print(f"listening on http://127.0.0.1:{args.port}/ (Ctrl-C stops)", flush=True)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
