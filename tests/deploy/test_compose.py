"""docker-compose.yml and deploy/Dockerfile, checked without a Docker engine.

Nothing here can build or run a container, so the files are parsed and each service is checked for
what it needs to work: the broker in KRaft mode and reachable by service name, PostgreSQL with a
health check and a volume, the migration step ahead of the services, both services built from the
one Dockerfile with their ports, health checks, broker address and (for the analyzer only) database.
``docker compose up --scale analyzer=N`` must work: the analyzer has no container name and no host
port, and the gateway in front of it (deploy/compose/analyzer-gateway.conf) publishes the API once and
follows the replicas. Every long-running service has a health check, and every service keeps its data
on a named volume or keeps nothing (a read-only container with a tmpfs for scratch).

Every check is a function that returns the problems it finds. ``test_stack_passes`` runs each one on
the real files; ``test_check_catches_a_broken_copy`` breaks a copy of the files in one specific way per
case and asserts that the check meant to notice does, so no check can pass vacuously; and
``test_every_check_can_fail`` makes sure each check has such a case. Whether the file is a valid
Compose file at all (keys, types, enumerations) is checked by the Compose specification's own schema
in test_validators.py.
"""

from __future__ import annotations

import ast
import copy
import ipaddress
import json
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, cast
from urllib.parse import urlsplit

import pytest
import yaml

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
DOCKERFILE = REPO / "deploy" / "Dockerfile"
BROKER_MODULE = REPO / "deploy" / "kafka" / "broker.py"
GATEWAY = "analyzer-gateway"
DOCKER_DNS = "127.0.0.11"

APP_PORTS = {"ingest": 8000, "analyzer": 8001}
APP_SERVICES = tuple(APP_PORTS)
KAFKA = "kafka"
POSTGRES = "postgres"
MIGRATE = "migrate"
BASE_IMAGE = "python:3.11-slim"

Mapping = dict[str, Any]


@dataclass
class Stack:
    """What the checks look at: the parsed compose file, the Dockerfile's text, the pinned Kafka version."""

    compose: Mapping
    dockerfile: str
    kafka_version: str
    gateway_conf: str  # the nginx configuration the gateway service mounts ("" if it mounts none)


Check = Callable[[Stack], list[str]]


# ---------------------------------------------------------------- reading the files


def pinned_kafka_version(module: Path = BROKER_MODULE) -> str:
    """``KAFKA_VERSION`` as assigned in deploy/kafka/broker.py (read, not imported)."""
    for node in ast.parse(module.read_text(encoding="utf-8")).body:
        target: ast.expr | None = None
        value: ast.expr | None = None
        if isinstance(node, ast.Assign) and len(node.targets) == 1:
            target, value = node.targets[0], node.value
        elif isinstance(node, ast.AnnAssign):
            target, value = node.target, node.value
        if (
            isinstance(target, ast.Name)
            and target.id == "KAFKA_VERSION"
            and isinstance(value, ast.Constant)
            and isinstance(value.value, str)
        ):
            return value.value
    raise AssertionError(f"no KAFKA_VERSION string constant in {module}")


def load_stack() -> Stack:
    """The real docker-compose.yml, deploy/Dockerfile and pinned Kafka version."""
    compose = yaml.safe_load(COMPOSE_FILE.read_text(encoding="utf-8"))
    assert isinstance(compose, dict), "docker-compose.yml is not a mapping"
    gateway = cast(Mapping, compose).get("services", {}).get(GATEWAY) or {}
    conf = gateway_conf_path(gateway)
    return Stack(
        compose=cast(Mapping, compose),
        dockerfile=DOCKERFILE.read_text(encoding="utf-8"),
        kafka_version=pinned_kafka_version(),
        gateway_conf=conf.read_text(encoding="utf-8") if conf is not None and conf.is_file() else "",
    )


def bind_mounts(svc: Mapping) -> dict[str, Path]:
    """Container path -> host path (resolved against the compose file's folder) of each bind mount."""
    mounts: dict[str, Path] = {}
    for entry in svc.get("volumes") or []:
        if isinstance(entry, dict):
            if entry.get("type") == "bind":
                mounts[str(entry.get("target"))] = COMPOSE_FILE.parent / str(entry.get("source"))
            continue
        source, sep, rest = str(entry).partition(":")
        if sep and source.startswith((".", "/")):
            mounts[rest.partition(":")[0]] = COMPOSE_FILE.parent / source
    return mounts


def gateway_conf_path(gateway: Mapping) -> Path | None:
    """The host file mounted as one of nginx's server configurations, if any."""
    for target, source in bind_mounts(gateway).items():
        if target.startswith("/etc/nginx/"):
            return source
    return None


def nginx_directives(conf: str) -> list[list[str]]:
    """Each ``directive arg ...;`` of an nginx configuration as a word list (comments dropped)."""
    text = "\n".join(line.partition("#")[0] for line in conf.splitlines())
    return [part.split() for part in re.split(r"[;{}]", text) if part.split()]


def host_ports(svc: Mapping) -> set[int]:
    """Host ports a service publishes with no variables set (ranges expanded)."""
    found: set[int] = set()
    for entry in svc.get("ports") or []:
        found |= _expand(_port_spec(entry)[0])
    return found


_VARIABLE = re.compile(r"\$\$|\$\{(?P<name>[A-Za-z_][A-Za-z0-9_]*)(?:(?P<op>:?[-?+])(?P<arg>[^}]*))?\}")


def interpolate(value: object) -> str:
    """A value as Compose would see it with no variables set: ``${X:-d}`` gives d, ``$$`` gives $.

    Required (``${X:?msg}``) and plain (``${X}``) variables become ``<X>``, so a check can still see
    where a value comes from.
    """

    def replace(match: re.Match[str]) -> str:
        if match.group(0) == "$$":
            return "$"
        op = match.group("op") or ""
        if op in {"-", ":-"}:
            return interpolate(match.group("arg"))
        if op in {"+", ":+"}:
            return ""
        return f"<{match.group('name')}>"

    return _VARIABLE.sub(replace, str(value))


def services(stack: Stack) -> Mapping:
    found = stack.compose.get("services")
    return cast(Mapping, found) if isinstance(found, dict) else {}


def service(stack: Stack, name: str) -> Mapping:
    found = services(stack).get(name)
    return cast(Mapping, found) if isinstance(found, dict) else {}


def environment(svc: Mapping) -> dict[str, str | None]:
    """The service's environment, interpolated; a variable listed without a value maps to None."""
    raw = svc.get("environment") or {}
    pairs: dict[str, str | None] = {}
    if isinstance(raw, dict):
        for key, value in raw.items():
            pairs[str(key)] = None if value is None else interpolate(value)
    elif isinstance(raw, list):
        for item in raw:
            key, sep, value = str(item).partition("=")
            pairs[key] = interpolate(value) if sep else None
    return pairs


def depends_on(svc: Mapping) -> dict[str, str]:
    """Target service -> condition (the short list form means ``service_started``)."""
    raw = svc.get("depends_on") or {}
    if isinstance(raw, list):
        return {str(name): "service_started" for name in raw}
    if isinstance(raw, dict):
        conditions: dict[str, str] = {}
        for name, spec in raw.items():
            options = spec or {}
            conditions[str(name)] = (
                str(options.get("condition", "service_started")) if isinstance(options, dict) else ""
            )
        return conditions
    return {}


def words(value: object) -> str:
    """A command or health check test (string or list form) as one string."""
    if isinstance(value, list):
        return " ".join(str(part) for part in value)
    return "" if value is None else str(value)


def healthcheck_test(svc: Mapping) -> str:
    check = svc.get("healthcheck")
    if not isinstance(check, dict) or check.get("disable") is True:
        return ""
    test = words(check.get("test"))
    return "" if test.strip() in {"", "NONE"} else test


def _port_spec(entry: object) -> tuple[str, str]:
    """(host part, container part) of a ``ports`` entry, interpolated, protocol and address dropped."""
    if isinstance(entry, dict):
        return interpolate(entry.get("published", "")), interpolate(entry.get("target", ""))
    spec = interpolate(entry).split("/")[0]
    host, _, container = spec.rpartition(":")
    return host.rpartition(":")[2], container


def _expand(ports: str) -> set[int]:
    low, _, high = ports.partition("-")
    if not low.isdigit() or (high and not high.isdigit()):
        return set()
    return set(range(int(low), int(high or low) + 1))


def container_ports(svc: Mapping) -> set[int]:
    found: set[int] = set()
    for entry in svc.get("ports") or []:
        found |= _expand(_port_spec(entry)[1])
    return found


def fixed_host_ports(svc: Mapping) -> list[str]:
    """Published entries pinned to one host port that no variable can change (they clash under --scale)."""
    fixed: list[str] = []
    for entry in svc.get("ports") or []:
        raw = words(entry.get("published")) if isinstance(entry, dict) else str(entry)
        if "${" in raw:
            continue
        host = _port_spec(entry)[0]
        if host.isdigit():
            fixed.append(str(entry))
    return fixed


def listeners(value: str | None) -> dict[str, tuple[str, str]]:
    """``NAME://host:port,...`` -> {NAME: (host, port)}."""
    found: dict[str, tuple[str, str]] = {}
    for item in (value or "").split(","):
        name, sep, address = item.strip().partition("://")
        if sep:
            host, _, port = address.rpartition(":")
            found[name] = (host, port)
    return found


def kafka_internal_address(stack: Stack) -> str | None:
    """host:port that the broker advertises on its inter-broker listener: what containers bootstrap from."""
    env = environment(service(stack, KAFKA))
    name = env.get("KAFKA_INTER_BROKER_LISTENER_NAME") or "PLAINTEXT"
    advertised = listeners(env.get("KAFKA_ADVERTISED_LISTENERS")).get(name)
    return f"{advertised[0]}:{advertised[1]}" if advertised else None


def named_volume_mounts(svc: Mapping) -> dict[str, str]:
    """Container path -> named volume (bind mounts of host paths are left out)."""
    mounts: dict[str, str] = {}
    for entry in svc.get("volumes") or []:
        if isinstance(entry, dict):
            if entry.get("type", "volume") == "volume" and entry.get("source"):
                mounts[str(entry.get("target"))] = str(entry["source"])
            continue
        source, sep, rest = str(entry).partition(":")
        if sep and not source.startswith((".", "/", "~", "$")):
            mounts[rest.partition(":")[0]] = source
    return mounts


def dockerfile_instructions(text: str) -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) pairs with line continuations joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    pending = ""
    for raw in text.splitlines():
        line = raw.strip()
        if line.startswith("#") or (not line and not pending):
            continue
        if line.endswith("\\"):
            pending += line[:-1] + " "
            continue
        full = (pending + line).strip()
        pending = ""
        if full:
            keyword, _, args = full.partition(" ")
            instructions.append((keyword.upper(), args.strip()))
    return instructions


def final_stage(text: str) -> list[tuple[str, str]]:
    instructions = dockerfile_instructions(text)
    starts = [i for i, (keyword, _) in enumerate(instructions) if keyword == "FROM"]
    return instructions[starts[-1] :] if starts else []


def copy_sources(args: str) -> tuple[list[str], bool]:
    """Sources of a COPY/ADD and whether it copies from another stage or image (``--from``)."""
    tokens = args.split()
    from_stage = any(token.startswith("--from=") for token in tokens)
    tokens = [token for token in tokens if not token.startswith("--")]
    return [token.rstrip("/") for token in tokens[:-1]], from_stage


def exec_form(args: str) -> list[str] | None:
    """The argument list of an exec-form (JSON array) instruction; None for shell form or invalid JSON."""
    if not args.startswith("["):
        return None
    try:
        value = json.loads(args)
    except json.JSONDecodeError:
        return None
    return [str(item) for item in value] if isinstance(value, list) else None


def healthcheck_command(args: str) -> str:
    """The command of a HEALTHCHECK instruction, its options dropped."""
    return args.partition("CMD ")[2].strip()


def python_snippet_problems(argv: list[str], where: str) -> list[str]:
    """A ``python -c CODE`` command line whose CODE does not compile."""
    if len(argv) < 3 or not argv[0].startswith("python") or "-c" not in argv[1:-1]:
        return []
    code = argv[argv.index("-c") + 1]
    try:
        compile(code, where, "exec")
    except SyntaxError as error:
        return [f"{where}: the python -c code does not compile: {error}"]
    return []


# ---------------------------------------------------------------- the checks


def check_kafka_image(stack: Stack) -> list[str]:
    expected = f"apache/kafka:{stack.kafka_version}"
    image = service(stack, KAFKA).get("image")
    return (
        [] if image == expected else [f"kafka image is {image!r}, expected {expected!r} (KAFKA_VERSION of broker.py)"]
    )


def check_kafka_kraft(stack: Stack) -> list[str]:
    env = environment(service(stack, KAFKA))
    problems = [
        f"kafka lacks {key}"
        for key in (
            "CLUSTER_ID",
            "KAFKA_NODE_ID",
            "KAFKA_PROCESS_ROLES",
            "KAFKA_LISTENERS",
            "KAFKA_ADVERTISED_LISTENERS",
            "KAFKA_CONTROLLER_QUORUM_VOTERS",
            "KAFKA_CONTROLLER_LISTENER_NAMES",
            "KAFKA_LISTENER_SECURITY_PROTOCOL_MAP",
            "KAFKA_INTER_BROKER_LISTENER_NAME",
        )
        if not env.get(key)
    ]
    if problems:
        return problems
    if set((env["KAFKA_PROCESS_ROLES"] or "").split(",")) != {"broker", "controller"}:
        problems.append("a single KRaft node needs KAFKA_PROCESS_ROLES=broker,controller")
    bound = listeners(env["KAFKA_LISTENERS"])
    protocols = dict(item.split(":", 1) for item in (env["KAFKA_LISTENER_SECURITY_PROTOCOL_MAP"] or "").split(","))
    controller = env["KAFKA_CONTROLLER_LISTENER_NAMES"] or ""
    for name in {*bound, *listeners(env["KAFKA_ADVERTISED_LISTENERS"])}:
        if name not in protocols:
            problems.append(f"listener {name} has no security protocol in KAFKA_LISTENER_SECURITY_PROTOCOL_MAP")
    if controller not in bound:
        problems.append(f"controller listener {controller} is not in KAFKA_LISTENERS")
    voter = f"{env['KAFKA_NODE_ID']}@{KAFKA}:{bound.get(controller, ('', '?'))[1]}"
    if env["KAFKA_CONTROLLER_QUORUM_VOTERS"] != voter:
        problems.append(
            f"KAFKA_CONTROLLER_QUORUM_VOTERS is {env['KAFKA_CONTROLLER_QUORUM_VOTERS']!r}, expected {voter!r}"
        )
    if env["KAFKA_INTER_BROKER_LISTENER_NAME"] not in bound:
        problems.append("the inter-broker listener is not in KAFKA_LISTENERS")
    expected = {
        "KAFKA_OFFSETS_TOPIC_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_REPLICATION_FACTOR": "1",
        "KAFKA_TRANSACTION_STATE_LOG_MIN_ISR": "1",
        "KAFKA_GROUP_INITIAL_REBALANCE_DELAY_MS": "0",
        "KAFKA_NUM_PARTITIONS": "6",
        "KAFKA_AUTO_CREATE_TOPICS_ENABLE": "false",
    }
    for key, value in expected.items():
        if (env.get(key) or "").lower() != value:
            problems.append(f"kafka needs {key}={value}, has {env.get(key)!r}")
    log_dirs = env.get("KAFKA_LOG_DIRS")
    if not log_dirs or log_dirs not in named_volume_mounts(service(stack, KAFKA)):
        problems.append("KAFKA_LOG_DIRS must be set and on a named volume, or the topics vanish with the container")
    return problems


def check_kafka_advertised_listener(stack: Stack) -> list[str]:
    env = environment(service(stack, KAFKA))
    name = env.get("KAFKA_INTER_BROKER_LISTENER_NAME") or "PLAINTEXT"
    advertised = listeners(env.get("KAFKA_ADVERTISED_LISTENERS")).get(name)
    if advertised is None:
        return [f"kafka does not advertise its internal listener {name}"]
    host, port = advertised
    problems = []
    if host != KAFKA:
        problems.append(f"kafka advertises {name} as {host!r}: other containers reach it only as {KAFKA!r}")
    if listeners(env.get("KAFKA_LISTENERS")).get(name, ("", ""))[1] != port:
        problems.append(f"advertised port {port} of {name} is not the port it listens on")
    return problems


def check_kafka_healthcheck(stack: Stack) -> list[str]:
    test = healthcheck_test(service(stack, KAFKA))
    if "kafka-broker-api-versions" not in test and "kafka-topics" not in test:
        return ["kafka has no health check that asks the broker itself"]
    return []


def check_postgres(stack: Stack) -> list[str]:
    svc = service(stack, POSTGRES)
    problems = []
    if not str(svc.get("image", "")).startswith("postgres:16"):
        problems.append(f"postgres image is {svc.get('image')!r}, expected postgres:16")
    if "pg_isready" not in healthcheck_test(svc):
        problems.append("postgres has no pg_isready health check")
    if "/var/lib/postgresql/data" not in named_volume_mounts(svc):
        problems.append("postgres data is not on a named volume")
    return problems


def check_migrate(stack: Stack) -> list[str]:
    svc = service(stack, MIGRATE)
    problems = []
    if "services.analyzer migrate" not in words(svc.get("command")):
        problems.append(f"migrate runs {words(svc.get('command'))!r}, not `python -m services.analyzer migrate`")
    if str(svc.get("restart", "no")) != "no":
        problems.append("migrate is a one-shot step: restart must be 'no'")
    if depends_on(svc).get(POSTGRES) != "service_healthy":
        problems.append("migrate must wait for postgres to be healthy")
    analyzer = service(stack, "analyzer")
    if svc.get("build") != analyzer.get("build") or svc.get("image") != analyzer.get("image"):
        problems.append("migrate must run the services' image")
    if environment(svc).get("DATABASE_URL") != environment(analyzer).get("DATABASE_URL"):
        problems.append("migrate and analyzer must use the same DATABASE_URL")
    return problems


def check_app_builds(stack: Stack) -> list[str]:
    problems = []
    for name in APP_SERVICES:
        build = service(stack, name).get("build")
        if not isinstance(build, dict):
            problems.append(f"{name} is not built (no build mapping)")
            continue
        context = (COMPOSE_FILE.parent / str(build.get("context", "."))).resolve()
        if context != REPO or (context / str(build.get("dockerfile", "Dockerfile"))).resolve() != DOCKERFILE:
            problems.append(f"{name} is not built from deploy/Dockerfile with the repository as context")
    images = {str(service(stack, name).get("image")) for name in APP_SERVICES}
    if len(images) != 1:
        problems.append(f"ingest and analyzer must share one image, have {sorted(images)}")
    return problems


def check_app_commands(stack: Stack) -> list[str]:
    problems = []
    for name in APP_SERVICES:
        command = words(service(stack, name).get("command"))
        if not re.fullmatch(rf"python -m services\.{name}", command):
            problems.append(f"{name} runs {command!r}, expected `python -m services.{name}`")
    return problems


def check_app_ports(stack: Stack) -> list[str]:
    problems = []
    for name, port in APP_PORTS.items():
        svc = service(stack, name)
        if name == "analyzer":  # reached through the gateway only: exposed to the network, not published
            if str(port) not in {str(p) for p in svc.get("expose") or []}:
                problems.append(f"analyzer does not expose container port {port} to the gateway")
        elif port not in container_ports(svc):
            problems.append(f"{name} does not publish container port {port}")
        if environment(svc).get(f"{name.upper()}_PORT") not in {None, str(port)}:
            problems.append(f"{name.upper()}_PORT disagrees with the published port {port}")
    analyzer = service(stack, "analyzer")
    if "container_name" in analyzer:
        problems.append("analyzer has a container_name: `--scale analyzer=N` cannot create a second one")
    for entry in fixed_host_ports(analyzer):
        problems.append(f"analyzer publishes the fixed host port {entry!r}: replicas under --scale would clash")
    if analyzer.get("ports"):
        problems.append(
            "analyzer publishes host ports: with --scale analyzer=N the replicas clash on the default; "
            f"the API is published by {GATEWAY}"
        )
    return problems


def check_analyzer_gateway(stack: Stack) -> list[str]:
    """One published address for the analyzer's API that follows the replicas --scale starts and stops."""
    gateway = service(stack, GATEWAY)
    if not gateway:
        return [f"no {GATEWAY} service: nothing publishes the analyzer's API once analyzer has no host port"]
    problems = []
    port = APP_PORTS["analyzer"]
    if not str(gateway.get("image", "")).startswith("nginx:"):
        problems.append(f"{GATEWAY} image is {gateway.get('image')!r}, expected nginx")
    if container_ports(gateway) != {port} or not host_ports(gateway):
        problems.append(f"{GATEWAY} must publish container port {port} on the host")
    conf = gateway_conf_path(gateway)
    if conf is None or not conf.is_file():
        problems.append(f"{GATEWAY} mounts no nginx configuration from the repository")
    if depends_on(gateway).get("analyzer") != "service_healthy":
        problems.append(f"{GATEWAY} must wait for analyzer to be healthy")
    directives = nginx_directives(stack.gateway_conf)
    listens = {words[1] for words in directives if words[0] == "listen"}
    if listens != {str(port)}:
        problems.append(f"the gateway configuration listens on {sorted(listens)}, not {port}")
    resolvers = [words for words in directives if words[0] == "resolver"]
    if not resolvers or resolvers[0][1] != DOCKER_DNS:
        problems.append(f"the gateway must resolve with Docker's DNS ({DOCKER_DNS}) to see every replica")
    variables = {words[1]: words[2] for words in directives if words[0] == "set" and len(words) == 3}
    passes = [words[1] for words in directives if words[0] == "proxy_pass"]
    if len(passes) != 1:
        problems.append(f"the gateway configuration has {len(passes)} proxy_pass directives, expected 1")
    elif not passes[0].startswith("$"):
        problems.append("proxy_pass names its target directly: nginx resolves it once and never sees new replicas")
    elif variables.get(passes[0]) != f"http://analyzer:{port}":
        problems.append(f"the gateway proxies to {variables.get(passes[0])!r}, not http://analyzer:{port}")
    return problems


def check_health_checks_everywhere(stack: Stack) -> list[str]:
    """Each service that keeps running has a health check; only a one-shot step may go without."""
    problems = []
    for name in services(stack):
        svc = service(stack, name)
        one_shot = str(svc.get("restart", "no")) == "no"
        if not one_shot and not healthcheck_test(svc):
            problems.append(f"{name} runs continuously but has no health check")
        if one_shot and name != MIGRATE:
            problems.append(f"{name} has no restart policy: a crash would leave it down")
    return problems


def check_storage(stack: Stack) -> list[str]:
    """Each service keeps its data on a named volume, or keeps nothing (read-only, tmpfs for scratch)."""
    problems = []
    for name in services(stack):
        svc = service(stack, name)
        if named_volume_mounts(svc):
            continue
        tmpfs = svc.get("tmpfs") or []
        if svc.get("read_only") is not True or not (tmpfs if isinstance(tmpfs, list) else [tmpfs]):
            problems.append(f"{name} has no named volume and is not read-only with a tmpfs: its writes would be lost")
    for name in (*APP_SERVICES, MIGRATE):
        if named_volume_mounts(service(stack, name)):
            problems.append(f"{name} mounts a named volume: replicas under --scale would share or fight over it")
    return problems


# The only capabilities a service may add back after dropping all: images whose entrypoint starts as root and
# steps down to its own user. Every other service runs as an unprivileged user and needs none.
ALLOWED_CAPABILITIES = {
    POSTGRES: frozenset({"CHOWN", "DAC_OVERRIDE", "FOWNER", "SETGID", "SETUID"}),
    GATEWAY: frozenset({"CHOWN", "SETGID", "SETUID"}),
}


def check_privileges(stack: Stack) -> list[str]:
    """Every service sets no-new-privileges, drops all capabilities and adds back only its allowed few."""
    problems = []
    for name in services(stack):
        svc = service(stack, name)
        if "no-new-privileges:true" not in [str(o).replace(" ", "") for o in svc.get("security_opt") or []]:
            problems.append(f"{name} lacks security_opt no-new-privileges:true")
        if [str(c).upper() for c in svc.get("cap_drop") or []] != ["ALL"]:
            problems.append(f"{name} does not drop every capability (cap_drop: [ALL])")
        extra = {str(c).upper() for c in svc.get("cap_add") or []} - ALLOWED_CAPABILITIES.get(name, frozenset())
        if extra:
            problems.append(f"{name} adds capabilities it does not need: {sorted(extra)}")
    return problems


def check_host_ports_unique(stack: Stack) -> list[str]:
    """No two services publish the same host port by default."""
    owners: dict[int, str] = {}
    problems = []
    for name in services(stack):
        for port in host_ports(service(stack, name)):
            if port in owners:
                problems.append(f"{name} and {owners[port]} both publish host port {port}")
            owners[port] = name
    return problems


def check_app_healthchecks(stack: Stack) -> list[str]:
    problems = []
    for name, port in APP_PORTS.items():
        test = healthcheck_test(service(stack, name))
        if f":{port}/healthz" not in test:
            problems.append(f"{name} has no health check on /healthz at port {port}")
        if re.search(r"\b(curl|wget)\b", test):
            problems.append(f"{name}'s health check uses curl/wget, which python:3.11-slim does not have")
        raw = (service(stack, name).get("healthcheck") or {}).get("test")
        if isinstance(raw, list) and raw[:1] == ["CMD"]:
            problems += python_snippet_problems([str(part) for part in raw[1:]], f"{name} health check")
    return problems


def check_app_dependencies(stack: Stack) -> list[str]:
    needed = {
        "ingest": {KAFKA: "service_healthy"},
        "analyzer": {
            KAFKA: "service_healthy",
            POSTGRES: "service_healthy",
            MIGRATE: "service_completed_successfully",
        },
    }
    problems = [
        f"ingest must not depend on {target}: it never touches the database"
        for target in depends_on(service(stack, "ingest"))
        if target in (POSTGRES, MIGRATE)
    ]
    for name, wants in needed.items():
        has = depends_on(service(stack, name))
        for target, condition in wants.items():
            if has.get(target) != condition:
                problems.append(f"{name} must depend on {target} with {condition}, has {has.get(target)!r}")
    return problems


def check_kafka_bootstrap(stack: Stack) -> list[str]:
    internal = kafka_internal_address(stack)
    problems = []
    for name in (*APP_SERVICES, MIGRATE):
        value = environment(service(stack, name)).get("KAFKA_BOOTSTRAP_SERVERS")
        if name == MIGRATE and value is None:
            continue
        if internal is None or not value or any(item.strip() != internal for item in value.split(",")):
            problems.append(f"{name} bootstraps from {value!r}, not the broker's internal listener {internal!r}")
    return problems


def check_analyzer_database(stack: Stack) -> list[str]:
    url = environment(service(stack, "analyzer")).get("DATABASE_URL")
    if not url:
        return ["analyzer has no DATABASE_URL (it would fall back to a SQLite file inside the container)"]
    parts = urlsplit(url)
    pg = environment(service(stack, POSTGRES))
    user = pg.get("POSTGRES_USER") or "postgres"
    problems = []
    if parts.scheme != "postgresql+asyncpg":
        problems.append(f"analyzer DATABASE_URL scheme is {parts.scheme!r}, expected 'postgresql+asyncpg'")
    if parts.hostname != POSTGRES or parts.port not in {None, 5432}:
        problems.append(f"analyzer DATABASE_URL points at {parts.netloc!r}, not the postgres service")
    if parts.username != user or parts.password != pg.get("POSTGRES_PASSWORD"):
        problems.append("analyzer DATABASE_URL credentials differ from POSTGRES_USER / POSTGRES_PASSWORD")
    if parts.path.lstrip("/") != (pg.get("POSTGRES_DB") or user):
        problems.append("analyzer DATABASE_URL names another database than POSTGRES_DB")
    return problems


def check_ingest_has_no_database(stack: Stack) -> list[str]:
    ingest = service(stack, "ingest")
    problems = []
    if "DATABASE_URL" in environment(ingest):
        problems.append("ingest gets a DATABASE_URL, but ingest never touches the database")
    if ingest.get("env_file"):
        problems.append("ingest reads an env_file, which could hand it a DATABASE_URL")
    return problems


def check_depends_on_targets(stack: Stack) -> list[str]:
    defined = services(stack)
    problems = []
    for name in defined:
        for target, condition in depends_on(service(stack, name)).items():
            # The condition's spelling is the Compose schema's to check (test_validators.py).
            if target not in defined:
                problems.append(f"{name} depends on {target!r}, which is not a service")
            elif condition == "service_healthy" and not healthcheck_test(service(stack, target)):
                problems.append(f"{name} waits for {target} to be healthy, but {target} has no health check")
    return problems


def check_named_volumes(stack: Stack) -> list[str]:
    declared = stack.compose.get("volumes") or {}
    problems = []
    for name in services(stack):
        for volume in named_volume_mounts(service(stack, name)).values():
            if volume not in declared:
                problems.append(f"{name} mounts volume {volume!r}, which is not declared under volumes:")
    return problems


def check_api_keys_required(stack: Stack) -> list[str]:
    """No key falls back to a default: unset, Compose stops; weak keys only when told the stack is local."""
    problems = []
    for name in APP_SERVICES:
        variable = f"{name.upper()}_API_KEYS"
        env = environment(service(stack, name))
        if env.get(variable) != f"<{variable}>":
            problems.append(f"{name}: {variable} is {env.get(variable)!r}, not required with ${{{variable}:?...}}")
        if env.get("ALLOW_WEAK_API_KEYS") != "false":
            problems.append(f"{name}: ALLOW_WEAK_API_KEYS defaults to {env.get('ALLOW_WEAK_API_KEYS')!r}, not false")
    return problems


def check_gateway_is_the_trusted_proxy(stack: Stack) -> list[str]:
    """The analyzer trusts X-Forwarded-For from the gateway's fixed address, and from nothing else."""
    trusted = environment(service(stack, "analyzer")).get("ANALYZER_TRUSTED_PROXIES")
    networks = service(stack, GATEWAY).get("networks") or {}
    address = (networks.get("default") or {}).get("ipv4_address") if isinstance(networks, dict) else None
    if address is None or trusted != str(address):
        return [f"ANALYZER_TRUSTED_PROXIES is {trusted!r}, not the gateway's fixed address {address!r}"]
    pools = ((stack.compose.get("networks") or {}).get("default") or {}).get("ipam", {}).get("config") or []
    gateway = ipaddress.ip_address(str(address))
    for pool in pools:
        subnet = ipaddress.ip_network(str(pool.get("subnet")))
        free = ipaddress.ip_network(str(pool.get("ip_range", pool.get("subnet"))))
        if gateway in subnet and gateway not in free:
            return []
    return [f"the gateway's address {address} is not in the default network's subnet, outside its ip_range"]


def check_dockerfile_stages(stack: Stack) -> list[str]:
    stages: list[str] = []
    problems = []
    for keyword, args in dockerfile_instructions(stack.dockerfile):
        if keyword != "FROM":
            continue
        tokens = [token for token in args.split() if not token.startswith("--")]
        if tokens[0] != BASE_IMAGE and tokens[0] not in stages:
            problems.append(f"stage FROM {tokens[0]}: expected {BASE_IMAGE}")
        if len(tokens) >= 3 and tokens[1].upper() == "AS":
            stages.append(tokens[2])
    if len(stages) < 2:
        problems.append("the Dockerfile is not multi-stage (two named stages expected)")
    if not any(keyword == "COPY" and copy_sources(args)[1] for keyword, args in final_stage(stack.dockerfile)):
        problems.append("the final stage copies nothing from the build stage")
    return problems


def check_dockerfile_user(stack: Stack) -> list[str]:
    users = [args for keyword, args in final_stage(stack.dockerfile) if keyword == "USER"]
    if not users or users[-1].split(":")[0] in {"root", "0"}:
        return ["the final stage does not switch to a non-root USER"]
    return []


def check_dockerfile_healthcheck(stack: Stack) -> list[str]:
    checks = [args for keyword, args in final_stage(stack.dockerfile) if keyword == "HEALTHCHECK"]
    if not checks or checks[-1].upper().startswith("NONE"):
        return ["the image has no HEALTHCHECK"]
    problems = []
    if "/healthz" not in checks[-1] or "python" not in checks[-1]:
        problems.append("the HEALTHCHECK should probe /healthz with python")
    if re.search(r"\b(curl|wget)\b", checks[-1]):
        problems.append("the HEALTHCHECK uses curl/wget, which python:3.11-slim does not have")
    argv = exec_form(healthcheck_command(checks[-1]))
    if argv is not None:
        problems += python_snippet_problems(argv, "the HEALTHCHECK")
    return problems


def check_dockerfile_exec_forms(stack: Stack) -> list[str]:
    """Docker silently runs a bracketed command that is not valid JSON through /bin/sh: catch that."""
    problems = []
    for keyword, args in dockerfile_instructions(stack.dockerfile):
        command = healthcheck_command(args) if keyword == "HEALTHCHECK" else args
        bracketed = keyword in {"CMD", "ENTRYPOINT", "HEALTHCHECK", "RUN"} and command.startswith("[")
        if bracketed and exec_form(command) is None:
            problems.append(f"{keyword} {command[:40]}...: not a valid JSON array, Docker would run it via sh")
    return problems


def check_dockerfile_expose(stack: Stack) -> list[str]:
    exposed = {
        token.split("/")[0]
        for keyword, args in final_stage(stack.dockerfile)
        if keyword == "EXPOSE"
        for token in args.split()
    }
    return [f"the image does not EXPOSE {port}" for port in APP_PORTS.values() if str(port) not in exposed]


def check_dockerfile_copies(stack: Stack) -> list[str]:
    copied = {
        source
        for keyword, args in final_stage(stack.dockerfile)
        if keyword == "COPY" and not copy_sources(args)[1]
        for source in copy_sources(args)[0]
    }
    return [
        f"the image does not copy {path}"
        for path in ("services", "shared", "migrations", "alembic.ini")
        if path not in copied
    ]


def check_dockerfile_sources_exist(stack: Stack) -> list[str]:
    problems = []
    for keyword, args in dockerfile_instructions(stack.dockerfile):
        sources, from_stage = copy_sources(args) if keyword in {"COPY", "ADD"} else ([], True)
        if from_stage:
            continue
        for source in sources:
            if not any(char in source for char in "*?[") and not (REPO / source).exists():
                problems.append(f"{keyword} {source}: no such path in the repository, the build would fail")
    return problems


def check_dockerfile_no_dev_deps(stack: Stack) -> list[str]:
    runs = [args for keyword, args in dockerfile_instructions(stack.dockerfile) if keyword == "RUN"]
    installs_package = any(re.search(r"pip install[^&;|]*(?<![\w/])\.(?=\s|$)", run) for run in runs)
    problems = [] if installs_package else ["the Dockerfile never runs `pip install .`"]
    for run in runs:
        if re.search(r"\[[^\]]*\bdev\b[^\]]*\]|optional-dependencies|\b(pytest|mypy|ruff)\b", run):
            problems.append(f"the image installs development dependencies: {run!r}")
    return problems


CHECKS: list[Check] = [
    check_kafka_image,
    check_kafka_kraft,
    check_kafka_advertised_listener,
    check_kafka_healthcheck,
    check_postgres,
    check_migrate,
    check_app_builds,
    check_app_commands,
    check_app_ports,
    check_analyzer_gateway,
    check_health_checks_everywhere,
    check_storage,
    check_privileges,
    check_host_ports_unique,
    check_app_healthchecks,
    check_app_dependencies,
    check_kafka_bootstrap,
    check_analyzer_database,
    check_ingest_has_no_database,
    check_depends_on_targets,
    check_named_volumes,
    check_api_keys_required,
    check_gateway_is_the_trusted_proxy,
    check_dockerfile_stages,
    check_dockerfile_user,
    check_dockerfile_healthcheck,
    check_dockerfile_exec_forms,
    check_dockerfile_expose,
    check_dockerfile_copies,
    check_dockerfile_sources_exist,
    check_dockerfile_no_dev_deps,
]


# ---------------------------------------------------------------- ways to break a copy of the stack


def _env(stack: Stack, name: str) -> Mapping:
    env = service(stack, name)["environment"]
    assert isinstance(env, dict)
    return cast(Mapping, env)


def _edit_dockerfile(old: str, new: str) -> Callable[[Stack], None]:
    def edit(stack: Stack) -> None:
        assert old in stack.dockerfile, f"{old!r} not in the Dockerfile: update this breakage"
        stack.dockerfile = stack.dockerfile.replace(old, new)

    return edit


def _set(name: str, key: str, value: object) -> Callable[[Stack], None]:
    def edit(stack: Stack) -> None:
        service(stack, name)[key] = value

    return edit


def _set_env(name: str, key: str, value: object) -> Callable[[Stack], None]:
    def edit(stack: Stack) -> None:
        _env(stack, name)[key] = value

    return edit


def _drop(name: str, key: str) -> Callable[[Stack], None]:
    def edit(stack: Stack) -> None:
        service(stack, name).pop(key)

    return edit


def _drop_env(name: str, key: str) -> Callable[[Stack], None]:
    def edit(stack: Stack) -> None:
        _env(stack, name).pop(key)

    return edit


def _drop_service(name: str) -> Callable[[Stack], None]:
    def edit(stack: Stack) -> None:
        services(stack).pop(name)

    return edit


def _edit_gateway(old: str, new: str) -> Callable[[Stack], None]:
    def edit(stack: Stack) -> None:
        assert old in stack.gateway_conf, f"{old!r} not in the gateway configuration: update this breakage"
        stack.gateway_conf = stack.gateway_conf.replace(old, new)

    return edit


def _other_kafka_version(stack: Stack) -> None:
    stack.kafka_version = "4.0.0"


def _undeclare_volumes(stack: Stack) -> None:
    stack.compose["volumes"] = {}


def _ingest_waits_for_started_migration(stack: Stack) -> None:
    service(stack, "ingest")["depends_on"] = {KAFKA: {"condition": "service_healthy"}, MIGRATE: {}}


def _ingest_waits_for_postgres(stack: Stack) -> None:
    service(stack, "ingest")["depends_on"] = {KAFKA: {"condition": "service_healthy"}, POSTGRES: {}}


def _analyzer_needs_redis(stack: Stack) -> None:
    service(stack, "analyzer")["depends_on"]["redis"] = {"condition": "service_started"}


BREAKAGES: list[tuple[Check, str, Callable[[Stack], None]]] = [
    (check_kafka_image, "image tag differs from broker.py", _set(KAFKA, "image", "apache/kafka:3.8.0")),
    (check_kafka_image, "broker.py pins another version", _other_kafka_version),
    (check_kafka_kraft, "no process roles", _drop_env(KAFKA, "KAFKA_PROCESS_ROLES")),
    (check_kafka_kraft, "auto topic creation on", _set_env(KAFKA, "KAFKA_AUTO_CREATE_TOPICS_ENABLE", "true")),
    (check_kafka_kraft, "wrong quorum voter", _set_env(KAFKA, "KAFKA_CONTROLLER_QUORUM_VOTERS", "1@localhost:9093")),
    (check_kafka_kraft, "log dirs off the volume", _set_env(KAFKA, "KAFKA_LOG_DIRS", "/tmp/kraft-logs")),
    (
        check_kafka_advertised_listener,
        "advertised as localhost",
        _set_env(KAFKA, "KAFKA_ADVERTISED_LISTENERS", "PLAINTEXT://localhost:9092,HOST://localhost:9094"),
    ),
    (check_kafka_healthcheck, "no kafka health check", _drop(KAFKA, "healthcheck")),
    (check_postgres, "no pg_isready", _drop(POSTGRES, "healthcheck")),
    (check_postgres, "no data volume", _drop(POSTGRES, "volumes")),
    (check_migrate, "migrate starts the analyzer", _set(MIGRATE, "command", ["python", "-m", "services.analyzer"])),
    (check_migrate, "migrate restarts", _set(MIGRATE, "restart", "on-failure")),
    (
        check_app_builds,
        "analyzer from another Dockerfile",
        _set("analyzer", "build", {"context": ".", "dockerfile": "Dockerfile"}),
    ),
    (check_app_builds, "two images", _set("ingest", "image", "ingest:local")),
    (check_app_commands, "ingest runs the analyzer", _set("ingest", "command", ["python", "-m", "services.analyzer"])),
    (check_app_ports, "analyzer on another port", _set("analyzer", "ports", ["9001:9001"])),
    (check_app_ports, "analyzer pinned to one host port", _set("analyzer", "ports", ["8001:8001"])),
    (check_app_ports, "analyzer with a container name", _set("analyzer", "container_name", "analyzer")),
    (
        check_app_ports,
        "analyzer publishes its own port again",
        _set("analyzer", "ports", ["${ANALYZER_PUBLISH:-127.0.0.1:8001}:8001"]),
    ),
    (check_analyzer_gateway, "no gateway", _drop_service(GATEWAY)),
    (
        check_analyzer_gateway,
        "gateway proxies to itself",
        _edit_gateway("http://analyzer:8001;", "http://127.0.0.1:8001;"),
    ),
    (
        check_analyzer_gateway,
        "gateway resolves once",
        _edit_gateway("proxy_pass $analyzer_upstream;", "proxy_pass http://analyzer:8001;"),
    ),
    (check_analyzer_gateway, "gateway without Docker's DNS", _edit_gateway("resolver 127.0.0.11", "resolver 8.8.8.8")),
    (check_analyzer_gateway, "gateway listens elsewhere", _edit_gateway("listen 8001;", "listen 80;")),
    (check_analyzer_gateway, "gateway starts before the analyzer", _set(GATEWAY, "depends_on", [])),
    (check_health_checks_everywhere, "gateway without health check", _drop(GATEWAY, "healthcheck")),
    (check_health_checks_everywhere, "ingest never restarts", _set("ingest", "restart", "no")),
    (check_storage, "analyzer writable", _drop("analyzer", "read_only")),
    (check_storage, "gateway without scratch", _drop(GATEWAY, "tmpfs")),
    (check_storage, "analyzer on a shared volume", _set("analyzer", "volumes", ["postgres-data:/app/var"])),
    (check_privileges, "analyzer may gain privileges", _drop("analyzer", "security_opt")),
    (check_privileges, "kafka keeps its capabilities", _drop(KAFKA, "cap_drop")),
    (check_privileges, "migrate drops only some", _set(MIGRATE, "cap_drop", ["NET_RAW"])),
    (check_privileges, "ingest adds a capability", _set("ingest", "cap_add", ["NET_ADMIN"])),
    (check_privileges, "postgres adds too much", _set(POSTGRES, "cap_add", ["CHOWN", "SYS_ADMIN"])),
    (check_privileges, "gateway may gain privileges", _set(GATEWAY, "security_opt", ["no-new-privileges:false"])),
    (check_host_ports_unique, "ingest on the gateway's port", _set("ingest", "ports", ["127.0.0.1:8001:8000"])),
    (check_app_healthchecks, "no ingest health check", _drop("ingest", "healthcheck")),
    (
        check_app_healthchecks,
        "health check with curl",
        _set("analyzer", "healthcheck", {"test": "curl -f http://127.0.0.1:8001/healthz"}),
    ),
    (
        check_app_healthchecks,
        "probe code broken",
        _set(
            "ingest",
            "healthcheck",
            {"test": ["CMD", "python", "-c", "import urllib.request; urlopen('http://127.0.0.1:8000/healthz'"]},
        ),
    ),
    (check_app_dependencies, "ingest waits for migrate", _ingest_waits_for_started_migration),
    (check_app_dependencies, "ingest waits for postgres", _ingest_waits_for_postgres),
    (
        check_kafka_bootstrap,
        "ingest bootstraps from localhost",
        _set_env("ingest", "KAFKA_BOOTSTRAP_SERVERS", "localhost:9092"),
    ),
    (
        check_kafka_bootstrap,
        "analyzer on the host listener",
        _set_env("analyzer", "KAFKA_BOOTSTRAP_SERVERS", "localhost:9094"),
    ),
    (
        check_analyzer_database,
        "analyzer on SQLite",
        _set_env("analyzer", "DATABASE_URL", "sqlite+aiosqlite:///./var/f.db"),
    ),
    (
        check_analyzer_database,
        "analyzer on another host",
        _set_env("analyzer", "DATABASE_URL", "postgresql+asyncpg://feedback:feedback@localhost:5432/feedback"),
    ),
    (check_analyzer_database, "analyzer without a database", _drop_env("analyzer", "DATABASE_URL")),
    (
        check_ingest_has_no_database,
        "ingest gets a database",
        _set_env("ingest", "DATABASE_URL", "postgresql+asyncpg://x@postgres/db"),
    ),
    (check_depends_on_targets, "dependency on a missing service", _analyzer_needs_redis),
    (check_depends_on_targets, "healthy wait on a service without check", _drop(POSTGRES, "healthcheck")),
    (check_named_volumes, "volumes not declared", _undeclare_volumes),
    (
        check_dockerfile_stages,
        "another base image",
        _edit_dockerfile("FROM python:3.11-slim AS builder", "FROM python:3.12 AS builder"),
    ),
    (check_dockerfile_user, "runs as root", _edit_dockerfile("USER app:app", "USER root")),
    (check_dockerfile_healthcheck, "no image health check", _edit_dockerfile("HEALTHCHECK ", "# HEALTHCHECK ")),
    (check_dockerfile_healthcheck, "probe code broken", _edit_dockerfile("timeout=4)", "timeout=4")),
    (
        check_dockerfile_exec_forms,
        "exec form with a stray comma",
        _edit_dockerfile('"services.ingest"]', '"services.ingest",]'),
    ),
    (check_dockerfile_expose, "exposes only ingest", _edit_dockerfile("EXPOSE 8000 8001", "EXPOSE 8000")),
    (check_dockerfile_copies, "no alembic.ini", _edit_dockerfile("COPY alembic.ini ./", "")),
    (
        check_dockerfile_sources_exist,
        "copies a missing file",
        _edit_dockerfile("COPY alembic.ini ./", "COPY alembic.cfg ./"),
    ),
    (
        check_api_keys_required,
        "a development key as default",
        _set_env("ingest", "INGEST_API_KEYS", "${INGEST_API_KEYS:-dev-ingest-key}"),
    ),
    (check_api_keys_required, "weak keys allowed", _set_env("analyzer", "ALLOW_WEAK_API_KEYS", "true")),
    (
        check_gateway_is_the_trusted_proxy,
        "the whole network trusted",
        _set_env("analyzer", "ANALYZER_TRUSTED_PROXIES", "172.29.41.0/24"),
    ),
    (check_gateway_is_the_trusted_proxy, "no fixed gateway address", _drop(GATEWAY, "networks")),
    (
        check_dockerfile_no_dev_deps,
        "installs the dev extra",
        _edit_dockerfile("pip install --no-deps --editable .", "pip install --editable '.[dev]'"),
    ),
]


# ---------------------------------------------------------------- tests


@pytest.mark.parametrize("check", CHECKS, ids=[check.__name__ for check in CHECKS])
def test_stack_passes(check: Check) -> None:
    assert check(load_stack()) == []


@pytest.mark.parametrize(
    ("check", "breakage"),
    [(check, breakage) for check, _, breakage in BREAKAGES],
    ids=[f"{check.__name__}: {label}" for check, label, _ in BREAKAGES],
)
def test_check_catches_a_broken_copy(check: Check, breakage: Callable[[Stack], None]) -> None:
    stack = load_stack()
    broken = copy.deepcopy(stack)
    breakage(broken)
    assert check(stack) == [], "the unbroken stack must pass, so the breakage is what the check caught"
    assert check(broken), f"{check.__name__} did not notice the breakage"


def test_every_check_can_fail() -> None:
    covered = {check for check, _, _ in BREAKAGES}
    assert [check.__name__ for check in CHECKS if check not in covered] == []


def test_nginx_directives_are_read_across_lines_and_comments() -> None:
    conf = "server {\n  listen 8001; # here\n  location / { proxy_pass $x; }\n}\n"
    assert nginx_directives(conf) == [["server"], ["listen", "8001"], ["location", "/"], ["proxy_pass", "$x"]]


def test_interpolation_follows_compose() -> None:
    assert interpolate("${A:-x}:${B:?set B}:$${C}:${D}") == "x:<B>:${C}:<D>"
    assert interpolate("${PUBLISH:-127.0.0.1:8001}:8001") == "127.0.0.1:8001:8001"


def test_the_local_env_file_is_the_explicit_local_stack() -> None:
    lines = (REPO / "deploy" / "compose" / "local.env").read_text(encoding="utf-8").splitlines()
    settings = dict(line.split("=", 1) for line in lines if line and not line.startswith("#"))
    assert settings == {
        "ENVIRONMENT": "development",
        "INGEST_API_KEYS": "dev-ingest-key",
        "ANALYZER_API_KEYS": "dev-analyzer-key",
        "ALLOW_WEAK_API_KEYS": "true",
    }
