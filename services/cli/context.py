"""What every command shares: the parsed options, where the services are, their keys, the output mode.

URLs and keys come from, in order: the command-line flag, the process environment, the ``.env`` file
the services themselves read (``--env-file``, default ``./.env``), and for URLs a default built from
the port setting. A key is read from ``INGEST_API_KEY`` / ``ANALYZER_API_KEY``, else the first key of
the services' own ``INGEST_API_KEYS`` / ``ANALYZER_API_KEYS``, so an operator on a service's host needs
nothing more than its configuration.
"""

from __future__ import annotations

import argparse
import os
from dataclasses import dataclass, field
from pathlib import Path

from dotenv import dotenv_values

from services.analyzer.keys import entry_secret
from services.cli.client import ApiClient
from services.cli.errors import UsageError

DEFAULT_PORTS = {"ingest": 8000, "analyzer": 8001}


@dataclass
class Context:
    """The options of one invocation and the clients built from them (each at most once)."""

    args: argparse.Namespace
    _clients: dict[str, ApiClient] = field(default_factory=dict)

    @property
    def json(self) -> bool:
        """Print machine-readable JSON instead of tables."""
        return bool(getattr(self.args, "json", False))

    @property
    def quiet(self) -> bool:
        """No progress on stderr."""
        return bool(getattr(self.args, "quiet", False))

    @property
    def env_file(self) -> Path | None:
        """The ``.env`` file to read, as the services do (None when it does not exist)."""
        path = Path(getattr(self.args, "env_file", None) or ".env")
        return path if path.is_file() else None

    def lookup(self, name: str) -> str | None:
        """A variable from the environment, else from the ``.env`` file; None when unset or empty."""
        value = os.environ.get(name)
        if value is None and self.env_file is not None:
            value = dotenv_values(self.env_file).get(name)
        return value.strip() if value and value.strip() else None

    def url(self, service: str) -> str:
        """Base URL of ``service``: ``--<service>-url``, ``<SERVICE>_URL``, or ``http://127.0.0.1:<port>``."""
        flag = getattr(self.args, f"{service}_url", None)
        if flag:
            return str(flag)
        configured = self.lookup(f"{service.upper()}_URL")
        if configured:
            return configured
        port = self.lookup(f"{service.upper()}_PORT") or str(DEFAULT_PORTS[service])
        return f"http://127.0.0.1:{port}"

    def key(self, service: str) -> str:
        """The API key for ``service``; a usage error when none is configured anywhere."""
        flag = getattr(self.args, f"{service}_key", None)
        if flag:
            return str(flag)
        single = self.lookup(f"{service.upper()}_API_KEY")
        if single:
            return single
        listed = self.lookup(f"{service.upper()}_API_KEYS")
        keys = [k.strip() for k in (listed or "").split(",") if k.strip()]
        if keys:
            # An analyzer entry may be `id:secret:scopes`; the secret is what the API wants.
            return entry_secret(keys[0]) if service == "analyzer" else keys[0]
        raise UsageError(
            f"no {service} API key: pass --{service}-key, or set {service.upper()}_API_KEY "
            f"(or the service's own {service.upper()}_API_KEYS) in the environment or .env",
        )

    def client(self, service: str) -> ApiClient:
        """The client of ``service`` (``ingest`` or ``analyzer``)."""
        if service not in self._clients:
            timeout = float(getattr(self.args, "timeout", None) or 30.0)
            self._clients[service] = ApiClient(service, self.url(service), self.key(service), timeout_s=timeout)
        return self._clients[service]

    def close(self) -> None:
        """Close every client built."""
        for client in self._clients.values():
            client.close()
        self._clients.clear()
