"""``make run``: a local broker, migrations and both services, until Ctrl-C.

Supervises the two services: one that exits is restarted with backoff, and the others keep running.
Ctrl-C, SIGTERM and SIGHUP stop everything it started.

Fills in development defaults only for variables that are neither in the environment nor in
``.env`` and prints the names it filled in. With ``KAFKA_BOOTSTRAP_SERVERS`` set (environment or
``.env``), uses that broker; otherwise starts the embedded broker (deploy/kafka/broker.py) on
127.0.0.1:9092, and refuses to start when something else already listens there: a broker it did not
start (say, one left running by a crashed earlier run) is never adopted silently.
"""

from __future__ import annotations

import ctypes
import os
import signal
import subprocess
import sys
import time
from dataclasses import dataclass

import httpx
from dotenv import dotenv_values

from deploy.kafka.broker import REPO, BrokerError, KafkaBroker, port_open, start_broker
from shared.settings import DEVELOPMENT_PERSONAL_DATA_KEY

# A service that exits is restarted after 1 s, then 2, 4, ... up to 30 s while it keeps dying; one
# that ran for a minute starts again from 1 s.
RESTART_BACKOFF_MIN_S = 1.0
RESTART_BACKOFF_MAX_S = 30.0
RESTART_STABLE_S = 60.0

DEV_DEFAULTS = {
    "ENVIRONMENT": "development",
    # This machine only: the keys below are published, and private webhook targets are allowed.
    "INGEST_HOST": "127.0.0.1",
    "ANALYZER_HOST": "127.0.0.1",
    "INGEST_API_KEYS": "dev-ingest-key",
    "ANALYZER_API_KEYS": "dev-analyzer-key",
    "SURVEY_LINK_SECRET": "dev-survey-link-secret-not-for-production",
    "PERSONAL_DATA_KEY": DEVELOPMENT_PERSONAL_DATA_KEY,
    "WEBHOOK_ALLOW_PRIVATE_TARGETS": "true",
}


EMBEDDED_BOOTSTRAP = "127.0.0.1:9092"


def choose_broker(told: str, embedded: str) -> tuple[str, bool]:
    """The bootstrap servers to use, and whether to start the embedded broker there.

    A broker named in ``KAFKA_BOOTSTRAP_SERVERS`` (``told``) is used as it is. Otherwise the embedded
    broker is started on ``embedded``, unless something already listens there: a process make run did
    not start is never adopted silently (it may be a broker left behind whose data is gone).
    """
    if told:
        return told, False
    host, _, port = embedded.rpartition(":")
    if port_open(host, int(port)):
        raise RuntimeError(
            f"something already listens on {embedded}, and make run did not start it: stop it (a broker "
            "left by an earlier run shows in `pgrep -af kafka.Kafka`), or set "
            f"KAFKA_BOOTSTRAP_SERVERS={embedded} to use it"
        )
    return embedded, True


def fill_defaults(env: dict[str, str], dotenv: dict[str, str | None]) -> list[str]:
    """Set each development default that neither the environment nor ``.env`` sets; return the names."""
    filled = []
    for name, value in DEV_DEFAULTS.items():
        if name not in env and name not in dotenv:
            env[name] = value
            filled.append(name)
    return filled


def _wait_ready(url: str, proc: subprocess.Popen[bytes], timeout_s: float = 60) -> None:
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise RuntimeError(f"{url} exited with {proc.returncode} before it was ready")
        try:
            if httpx.get(url, timeout=1).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.3)
    raise RuntimeError(f"{url} was not ready within {timeout_s:.0f}s")


class Stop(Exception):
    """SIGTERM or SIGHUP: stop everything, as Ctrl-C does."""


def _on_stop_signal(signum: int, _frame: object) -> None:
    raise Stop(signal.Signals(signum).name)


def stop_with_parent() -> None:
    """Ask Linux for a SIGTERM when the parent (``make``) dies.

    ``make run`` is make running this module: a SIGTERM sent to make kills make alone, and would
    leave this supervisor, the services and the broker running without it. With the parent-death
    signal set, its death reaches here as SIGTERM and stops everything. Elsewhere than Linux a
    no-op.
    """
    if not sys.platform.startswith("linux"):
        return
    libc = ctypes.CDLL(None, use_errno=True)
    pr_set_pdeathsig = 1
    libc.prctl(pr_set_pdeathsig, signal.SIGTERM)
    if os.getppid() == 1:  # the parent died before the request took effect
        os.kill(os.getpid(), signal.SIGTERM)


@dataclass
class Service:
    """One service process that make run keeps running: restarted with backoff when it exits."""

    name: str
    module: str
    process: subprocess.Popen[bytes] | None = None
    started_at: float = 0.0
    backoff_s: float = RESTART_BACKOFF_MIN_S
    restart_at: float | None = None

    def start(self, env: dict[str, str]) -> None:
        """Start the process."""
        self.process = subprocess.Popen([sys.executable, "-m", self.module], env=env, cwd=REPO)
        self.started_at = time.monotonic()
        self.restart_at = None

    def restart_if_exited(self, env: dict[str, str]) -> None:
        """Restart the process once its backoff has passed; the backoff doubles while it keeps dying."""
        now = time.monotonic()
        if self.process is not None and self.process.poll() is not None:
            code = self.process.returncode
            if now - self.started_at > RESTART_STABLE_S:
                self.backoff_s = RESTART_BACKOFF_MIN_S  # it ran long enough: not a crash loop
            print(f"{self.name} exited with {code}; restarting in {self.backoff_s:.0f}s", file=sys.stderr, flush=True)
            self.process = None
            self.restart_at = now + self.backoff_s
            self.backoff_s = min(self.backoff_s * 2, RESTART_BACKOFF_MAX_S)
        if self.process is None and self.restart_at is not None and now >= self.restart_at:
            self.start(env)


def main() -> int:
    """Start everything, print where it listens, stop it all on Ctrl-C, SIGTERM or SIGHUP."""
    signal.signal(signal.SIGTERM, _on_stop_signal)
    signal.signal(signal.SIGHUP, _on_stop_signal)
    stop_with_parent()
    env = dict(os.environ)
    dotenv = dotenv_values(REPO / ".env") if (REPO / ".env").exists() else {}
    filled = fill_defaults(env, dotenv)
    if filled:
        print(f"make run filled in development defaults for: {', '.join(filled)}")

    def setting(name: str, default: str) -> str:
        return env.get(name) or dotenv.get(name) or default

    told = setting("KAFKA_BOOTSTRAP_SERVERS", "")
    broker: KafkaBroker | None = None
    children: list[subprocess.Popen[bytes]] = []
    try:
        bootstrap, start_own = choose_broker(told, EMBEDDED_BOOTSTRAP)
        port = bootstrap.rpartition(":")[2]
        if not start_own:
            print(f"using the Kafka broker at {bootstrap} (KAFKA_BOOTSTRAP_SERVERS)")
        else:
            print(f"starting the embedded Kafka broker on {bootstrap} (first run downloads it with Maven)...")
            started = time.monotonic()
            broker = start_broker(port=int(port), controller_port=int(port) + 1, data_dir=REPO / "var" / "kafka")
            print(f"kafka ready in {time.monotonic() - started:.1f}s")
        subprocess.run([sys.executable, "-m", "services.analyzer", "migrate"], env=env, check=True, cwd=REPO)
        ingest_port = setting("INGEST_PORT", "8000")
        analyzer_port = setting("ANALYZER_PORT", "8001")
        services = [Service("ingest", "services.ingest"), Service("analyzer", "services.analyzer")]
        for service in services:
            service.start(env)
        children.extend(service.process for service in services if service.process is not None)
        _wait_ready(f"http://127.0.0.1:{ingest_port}/readyz", children[0])
        _wait_ready(f"http://127.0.0.1:{analyzer_port}/readyz", children[1])
        ingest_key = _shown_key(env, dotenv, "INGEST_API_KEYS")
        analyzer_key = _shown_key(env, dotenv, "ANALYZER_API_KEYS")
        print(
            "\n".join(
                [
                    "",
                    f"ingest    http://127.0.0.1:{ingest_port}  docs: /docs  key: {ingest_key}",
                    f"analyzer  http://127.0.0.1:{analyzer_port}  docs: /docs  key: {analyzer_key}",
                    f"kafka     {bootstrap}",
                    f"database  {setting('DATABASE_URL', 'sqlite+aiosqlite:///./var/feedback.db')}",
                    "Ctrl-C stops everything.",
                    "",
                ],
            ),
            flush=True,
        )
        while True:
            for service in services:
                service.restart_if_exited(env)
            children[:] = [service.process for service in services if service.process is not None]
            time.sleep(0.5)
    except (KeyboardInterrupt, Stop):
        return 0
    except (BrokerError, RuntimeError, subprocess.CalledProcessError) as exc:
        print(exc, file=sys.stderr)
        return 1
    finally:
        # A second signal must not cut the clean-up short.
        signal.signal(signal.SIGTERM, signal.SIG_IGN)
        signal.signal(signal.SIGHUP, signal.SIG_IGN)
        for child in children:
            if child.poll() is None:
                child.send_signal(signal.SIGTERM)
        for child in children:
            try:
                child.wait(20)
            except subprocess.TimeoutExpired:
                child.kill()
        if broker is not None:
            broker.stop()


def _shown_key(env: dict[str, str], dotenv: dict[str, str | None], name: str) -> str:
    # Only the development key that make run itself filled in is printed; real keys never are.
    if name in dotenv or env.get(name) != DEV_DEFAULTS[name]:
        return f"(from your {name})"
    return DEV_DEFAULTS[name]


if __name__ == "__main__":
    raise SystemExit(main())
