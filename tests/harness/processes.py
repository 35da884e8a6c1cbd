"""Both services as live processes on free ports, for end-to-end tests."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from deploy.kafka.broker import REPO, free_port


@dataclass
class ServiceProcess:
    """One service process (``services.ingest`` or ``services.analyzer``) and its log file.

    ``tree`` runs the service from another checkout of the repository (a git worktree of an older
    revision, for before/after benchmarks): the process starts in it with only it on PYTHONPATH, so
    ``services``, ``shared`` and ``migrations`` are that checkout's, under this one's interpreter.
    """

    module: str
    env: dict[str, str]
    log_path: Path
    port: int = field(default_factory=free_port)
    process: subprocess.Popen[bytes] | None = None
    tree: Path | None = None

    @property
    def url(self) -> str:
        """Base URL of the service."""
        return f"http://127.0.0.1:{self.port}"

    def start(self, *, timeout_s: float = 60) -> None:
        """Start the process and wait until ``/readyz`` answers 200."""
        port_var = "INGEST_PORT" if self.module == "services.ingest" else "ANALYZER_PORT"
        env = {**os.environ, **self.env, port_var: str(self.port)}
        if self.tree is not None:
            env["PYTHONPATH"] = str(self.tree)
        log = self.log_path.open("ab")
        self.process = subprocess.Popen(
            [sys.executable, "-m", self.module],
            env=env,
            cwd=self.tree or REPO,
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise AssertionError(f"{self.module} exited with {self.process.returncode}:\n{self.log_tail()}")
            try:
                if httpx.get(f"{self.url}/readyz", timeout=1).status_code == 200:
                    return
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"{self.module} not ready within {timeout_s}s:\n{self.log_tail()}")

    def kill(self) -> None:
        """SIGKILL: no shutdown hooks, no flushing; a crash."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)

    def stop(self) -> None:
        """SIGTERM and wait (SIGKILL after 20s)."""
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(20)
            except subprocess.TimeoutExpired:
                self.kill()

    def log_tail(self, lines: int = 40) -> str:
        """The end of the process's log, for failure messages."""
        return "\n".join(self.log_path.read_text(errors="replace").splitlines()[-lines:])
