"""A private, throwaway PostgreSQL cluster for the test suite (Debian's server binaries).

Started on a free port with its socket in a temporary folder, so it never touches a system cluster.
As root, the cluster runs as the ``postgres`` user, because ``initdb`` refuses to run as root.
"""

from __future__ import annotations

import glob
import os
import pwd
import shutil
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

from deploy.kafka.broker import free_port


class PostgresUnavailable(RuntimeError):
    """No PostgreSQL server binaries on this machine."""


def find_bindir() -> Path:
    """The folder of ``initdb``/``pg_ctl``: ``PG_BINDIR``, Debian's layout, or PATH."""
    candidates = [os.environ.get("PG_BINDIR", "")]
    candidates += sorted(glob.glob("/usr/lib/postgresql/*/bin"), reverse=True)
    which = shutil.which("initdb")
    if which:
        candidates.append(str(Path(which).resolve().parent))
    for folder in candidates:
        if folder and (Path(folder) / "initdb").exists() and (Path(folder) / "pg_ctl").exists():
            return Path(folder)
    raise PostgresUnavailable(
        "PostgreSQL server binaries not found: install them (Debian: apt-get install -y postgresql) "
        "or set TEST_POSTGRES_URL to an existing server",
    )


@dataclass
class PostgresCluster:
    """A running private cluster."""

    bindir: Path
    data_dir: Path
    port: int
    user: str | None  # OS user the server runs as when we are root
    startup_s: float = 0.0
    # Durable: a commit is on disk when COMMIT returns. Off (the suite's default, for speed) a crash
    # of the server loses the last commits, which only a test that crashes the server can notice.
    durable: bool = False

    @property
    def url(self) -> str:
        """SQLAlchemy asyncpg URL of the maintenance database."""
        return f"postgresql+asyncpg://postgres:postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        cmd = list(args)
        if self.user:
            cmd = ["runuser", "-u", self.user, "--", *cmd]
        result = subprocess.run(cmd, capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise RuntimeError(f"{' '.join(args[:2])} failed: {result.stdout}{result.stderr}")

    def start(self) -> None:
        """initdb, then start and wait until it accepts connections."""
        pwfile = self.data_dir.parent / "pw"
        pwfile.write_text("postgres\n")
        if self.user:
            shutil.chown(self.data_dir.parent, self.user)
            shutil.chown(pwfile, self.user)
        self._run(
            str(self.bindir / "initdb"), "-D", str(self.data_dir), "-U", "postgres", "--pwfile", str(pwfile),
            "-A", "scram-sha-256", "--no-sync", "-E", "UTF8",
        )  # fmt: skip
        self.start_server()

    def start_server(self) -> None:
        """Start the server on the initialised cluster and wait until it accepts connections."""
        options = f"-p {self.port} -k {self.data_dir.parent} -c listen_addresses=127.0.0.1 -c max_connections=200"
        if not self.durable:
            options += " -c fsync=off -c synchronous_commit=off -c full_page_writes=off"
        self._run(
            str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "-l", str(self.data_dir.parent / "server.log"),
            "-o", options, "-w", "-t", "60", "start",
        )  # fmt: skip

    def stop_server(self, mode: str = "fast") -> None:
        """Stop the server, keeping the cluster: ``fast`` ends every session, ``immediate`` is a crash."""
        self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "-m", mode, "-w", "stop")

    def stop(self) -> None:
        """Stop fast and delete the cluster."""
        try:
            self._run(str(self.bindir / "pg_ctl"), "-D", str(self.data_dir), "-m", "fast", "-w", "stop")
        finally:
            shutil.rmtree(self.data_dir.parent, ignore_errors=True)


def start_cluster(*, durable: bool = False) -> PostgresCluster:
    """Create and start a private cluster on a free port (``durable``: with PostgreSQL's own defaults)."""
    bindir = find_bindir()
    root = Path(tempfile.mkdtemp(prefix="pg-"))
    user = None
    if os.geteuid() == 0:
        try:
            user = pwd.getpwnam("postgres").pw_name
        except KeyError as exc:
            raise PostgresUnavailable(
                "running as root needs the 'postgres' OS user (Debian's package creates it)"
            ) from exc
    cluster = PostgresCluster(bindir=bindir, data_dir=root / "data", port=free_port(), user=user, durable=durable)
    started = time.monotonic()
    cluster.start()
    cluster.startup_s = time.monotonic() - started
    return cluster
