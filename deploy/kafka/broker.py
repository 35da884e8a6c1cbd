"""Run a real single-node Apache Kafka broker (KRaft) without Docker.

Kafka's broker is published on Maven Central, so Maven resolves it (``deploy/kafka/pom.xml``) into
a cache outside git (``.cache/kafka``) and this module formats KRaft storage and starts it on the
ports asked for. ``make run`` uses it for the local broker; the test suite starts its own on free
ports. Usage::

    python -m deploy.kafka.broker fetch                 # resolve the jars only
    python -m deploy.kafka.broker run --port 9092       # foreground; Ctrl-C stops it
"""

from __future__ import annotations

import argparse
import base64
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

KAFKA_VERSION = "3.9.1"
HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
DEFAULT_CACHE = Path(os.environ.get("FEEDBACK_CACHE_DIR", REPO / ".cache"))


class BrokerError(RuntimeError):
    """The broker could not be fetched or started."""


def missing_tools() -> list[str]:
    """The tools this runner needs that are not on PATH."""
    return [tool for tool in ("java", "mvn") if shutil.which(tool) is None]


def install_hint(missing: list[str]) -> str:
    """What to tell a user who lacks Java or Maven."""
    hint = (
        f"Missing {', '.join(missing)}: the local Kafka broker needs Java 17+ and Maven.\n"
        "  Debian/Ubuntu: sudo apt-get install -y openjdk-17-jre-headless maven\n"
        "  macOS:         brew install openjdk@17 maven"
    )
    if shutil.which("docker"):
        hint += "\nA Docker engine is present: `docker compose up` runs the whole stack instead."
    return hint


def resolve_jars(cache_dir: Path = DEFAULT_CACHE) -> Path:
    """Resolve the broker's runtime jars from Maven Central into the cache; return their folder."""
    libs = cache_dir / "kafka" / f"libs-{KAFKA_VERSION}"
    marker = libs / ".complete"
    if marker.exists():
        return libs
    missing = missing_tools()
    if missing:
        raise BrokerError(install_hint(missing))
    libs.mkdir(parents=True, exist_ok=True)
    cmd = [
        "mvn", "-q", "-B", "-f", str(HERE / "pom.xml"),
        f"-Dkafka.version={KAFKA_VERSION}",
        "dependency:copy-dependencies",
        "-DincludeScope=runtime",
        f"-DoutputDirectory={libs}",
    ]  # fmt: skip
    result = subprocess.run(cmd, capture_output=True, text=True, check=False)
    if result.returncode != 0:
        raise BrokerError(f"maven could not resolve Kafka {KAFKA_VERSION}:\n{result.stdout}{result.stderr}")
    marker.write_text(KAFKA_VERSION)
    return libs


def free_port() -> int:
    """A TCP port on loopback that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def port_open(host: str, port: int) -> bool:
    """True if something accepts TCP connections on host:port."""
    try:
        with socket.create_connection((host, port), timeout=0.5):
            return True
    except OSError:
        return False


SCRAM_MECHANISMS = ("SCRAM-SHA-256", "SCRAM-SHA-512")


@dataclass(frozen=True)
class SecureListeners:
    """Client listeners that need TLS: SASL_SSL on the broker's port (PLAIN and SCRAM users) and,
    with ``mtls_port``, SSL that requires a client certificate signed by the CA.

    Kafka reads PEM directly: ``keystore_file`` holds the broker's unencrypted PKCS#8 key followed by
    its certificate chain (naming 127.0.0.1), ``ca_file`` the CA that signs server and client certificates.
    """

    ca_file: Path
    keystore_file: Path
    plain_users: Mapping[str, str] = field(default_factory=dict)
    scram_users: Mapping[str, str] = field(default_factory=dict)  # for both SCRAM-SHA-256 and SCRAM-SHA-512
    mtls_port: int | None = None


@dataclass
class KafkaBroker:
    """One single-node KRaft broker process on loopback (PLAINTEXT, or the listeners of ``security``)."""

    port: int
    controller_port: int
    data_dir: Path
    libs: Path
    partitions: int = 6
    heap_mb: int = 512
    security: SecureListeners | None = None
    process: subprocess.Popen[bytes] | None = field(default=None, init=False)
    _log_offset: int = field(default=0, init=False)
    # The broker's own PLAIN credentials for its inter-broker connections on the SASL_SSL listener.
    _broker_password: str = field(default_factory=lambda: secrets.token_hex(16), init=False)

    @property
    def bootstrap(self) -> str:
        """The ``host:port`` clients connect to."""
        return f"127.0.0.1:{self.port}"

    def _java(self, *args: str) -> list[str]:
        return [
            "java",
            f"-Xms{self.heap_mb}m",
            f"-Xmx{self.heap_mb}m",
            f"-Dlog4j.configuration=file:{HERE / 'log4j.properties'}",
            f"-Dkafka.logs.dir={self.data_dir / 'logs'}",
            "-cp",
            f"{self.libs}/*",
            *args,
        ]

    def _listener_lines(self) -> list[str]:
        controller = f"CONTROLLER://127.0.0.1:{self.controller_port}"
        if self.security is None:
            return [
                f"listeners=PLAINTEXT://127.0.0.1:{self.port},{controller}",
                f"advertised.listeners=PLAINTEXT://127.0.0.1:{self.port}",
                "inter.broker.listener.name=PLAINTEXT",
                "listener.security.protocol.map=CONTROLLER:PLAINTEXT,PLAINTEXT:PLAINTEXT",
            ]
        sec = self.security
        clients = [f"SASL_SSL://127.0.0.1:{self.port}"]
        if sec.mtls_port is not None:
            clients.append(f"SSL://127.0.0.1:{sec.mtls_port}")
        plain_users = {"broker": self._broker_password, **sec.plain_users}
        plain = " ".join(
            [f'username="broker" password="{self._broker_password}"']
            + [f'user_{name}="{password}"' for name, password in plain_users.items()],
        )
        scram = "org.apache.kafka.common.security.scram.ScramLoginModule required;"
        return [
            f"listeners={','.join(clients)},{controller}",
            f"advertised.listeners={','.join(clients)}",
            "inter.broker.listener.name=SASL_SSL",
            "listener.security.protocol.map=CONTROLLER:PLAINTEXT,SASL_SSL:SASL_SSL,SSL:SSL",
            f"sasl.enabled.mechanisms=PLAIN,{','.join(SCRAM_MECHANISMS)}",
            "sasl.mechanism.inter.broker.protocol=PLAIN",
            f"listener.name.sasl_ssl.plain.sasl.jaas.config=org.apache.kafka.common.security.plain.PlainLoginModule"
            f" required {plain};",
            *(f"listener.name.sasl_ssl.{m.lower()}.sasl.jaas.config={scram}" for m in SCRAM_MECHANISMS),
            "ssl.keystore.type=PEM",
            f"ssl.keystore.location={sec.keystore_file}",
            "ssl.truststore.type=PEM",
            f"ssl.truststore.location={sec.ca_file}",
            "listener.name.ssl.ssl.client.auth=required",
        ]

    def _scram_arguments(self) -> list[str]:
        users = self.security.scram_users if self.security else {}
        return [
            f"--add-scram={mechanism}=[name={name},password={password}]"
            for mechanism in SCRAM_MECHANISMS
            for name, password in users.items()
        ]

    def _write_config(self) -> Path:
        log_dir = self.data_dir / "data"
        config = self.data_dir / "server.properties"
        config.write_text(
            "\n".join(
                [
                    "process.roles=broker,controller",
                    "node.id=1",
                    f"controller.quorum.voters=1@127.0.0.1:{self.controller_port}",
                    *self._listener_lines(),
                    "controller.listener.names=CONTROLLER",
                    f"log.dirs={log_dir}",
                    f"num.partitions={self.partitions}",
                    "offsets.topic.replication.factor=1",
                    "offsets.topic.num.partitions=6",
                    "transaction.state.log.replication.factor=1",
                    "transaction.state.log.min.isr=1",
                    "group.initial.rebalance.delay.ms=0",
                    "auto.create.topics.enable=false",
                    "",
                ],
            ),
        )
        return config

    def start(self, *, timeout_s: float = 90.0) -> None:
        """Format storage if new, start the broker and wait until it accepts connections."""
        if port_open("127.0.0.1", self.port):
            raise BrokerError(f"port {self.port} is already in use; choose another with --port")
        self.data_dir.mkdir(parents=True, exist_ok=True)
        (self.data_dir / "logs").mkdir(exist_ok=True)
        config = self._write_config()
        if not (self.data_dir / "data" / "meta.properties").exists():
            # "--cluster-id=" keeps an id that starts with "-" (base64url allows it) from being read as a flag.
            fmt = subprocess.run(
                self._java(
                    "kafka.tools.StorageTool",
                    "format",
                    f"--cluster-id={_kafka_uuid()}",
                    "-c",
                    str(config),
                    *self._scram_arguments(),
                ),
                capture_output=True,
                text=True,
                check=False,
            )
            if fmt.returncode != 0:
                raise BrokerError(f"formatting KRaft storage failed:\n{fmt.stdout}{fmt.stderr}")
        server_log = self.data_dir / "logs" / "server.log"
        self._log_offset = server_log.stat().st_size if server_log.exists() else 0
        out = (self.data_dir / "logs" / "broker.out").open("ab")
        self.process = subprocess.Popen(
            self._java("kafka.Kafka", str(config)),
            stdout=out,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        self.wait_ready(timeout_s)

    def wait_ready(self, timeout_s: float) -> None:
        """Block until the broker accepts connections, failing early if the process died."""
        deadline = time.monotonic() + timeout_s
        while time.monotonic() < deadline:
            if self.process is not None and self.process.poll() is not None:
                raise BrokerError(f"the broker exited with {self.process.returncode}; see {self.data_dir / 'logs'}")
            if self._logged_started() and port_open("127.0.0.1", self.port):
                return
            time.sleep(0.2)
        self.stop()
        raise BrokerError(f"the broker did not accept connections within {timeout_s:.0f}s")

    def _logged_started(self) -> bool:
        # The port opens before the controller has elected itself; the log line comes after.
        server_log = self.data_dir / "logs" / "server.log"
        if not server_log.exists():
            return False
        with server_log.open("rb") as fh:
            fh.seek(self._log_offset)
            return b"Kafka Server started" in fh.read()

    def stop(self, *, timeout_s: float = 30.0) -> None:
        """Stop the broker: SIGTERM for a clean shutdown, SIGKILL if it does not finish in time."""
        if self.process is None or self.process.poll() is not None:
            return
        self.process.send_signal(signal.SIGTERM)
        try:
            self.process.wait(timeout_s)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)


def _kafka_uuid() -> str:
    """A fresh Kafka cluster id: 16 random bytes in URL-safe base64 without padding (22 characters)."""
    return base64.urlsafe_b64encode(uuid.uuid4().bytes).decode().rstrip("=")


def start_broker(
    *,
    port: int | None = None,
    controller_port: int | None = None,
    data_dir: Path | None = None,
    partitions: int = 6,
    cache_dir: Path = DEFAULT_CACHE,
    security: SecureListeners | None = None,
) -> KafkaBroker:
    """Fetch the jars if needed and start a broker; free ports and a temporary folder by default."""
    broker = KafkaBroker(
        port=port or free_port(),
        controller_port=controller_port or free_port(),
        data_dir=data_dir or Path(tempfile.mkdtemp(prefix="kafka-")),
        libs=resolve_jars(cache_dir),
        partitions=partitions,
        security=security,
    )
    broker.start()
    return broker


def main(argv: list[str] | None = None) -> int:
    """Command line: ``fetch`` or ``run``."""
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    sub = parser.add_subparsers(dest="command", required=True)
    sub.add_parser("fetch", help="resolve the broker jars into the cache")
    run = sub.add_parser("run", help="run a broker in the foreground")
    run.add_argument("--port", type=int, default=9092)
    run.add_argument("--controller-port", type=int, default=9093)
    run.add_argument("--data-dir", type=Path, default=REPO / "var" / "kafka")
    run.add_argument("--partitions", type=int, default=6)
    args = parser.parse_args(argv)
    try:
        if args.command == "fetch":
            print(resolve_jars())
            return 0
        started = time.monotonic()
        broker = start_broker(
            port=args.port,
            controller_port=args.controller_port,
            data_dir=args.data_dir,
            partitions=args.partitions,
        )
    except BrokerError as exc:
        print(exc, file=sys.stderr)
        return 1
    print(f"kafka {KAFKA_VERSION} ready on {broker.bootstrap} in {time.monotonic() - started:.1f}s", flush=True)

    def _stop(*_: object) -> None:
        broker.stop()
        sys.exit(0)

    signal.signal(signal.SIGTERM, _stop)
    signal.signal(signal.SIGINT, _stop)
    assert broker.process is not None
    broker.process.wait()
    return broker.process.returncode or 0


if __name__ == "__main__":
    raise SystemExit(main())
