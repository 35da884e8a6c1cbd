"""deploy/k8s/, checked without a cluster: structure and consistency with the code.

Every manifest is parsed and checked for what a deployment needs: the kustomization lists every file,
selectors match the pods' labels, Services reach a named container port, probes ask paths the
services really serve on the port they listen on, every environment variable a manifest sets is a
setting of the service that reads it (read from the pydantic settings classes), the pods run as a
non-root user on a read-only root with resources and room to stop, and the migration Job runs the
migration while the analyzer waits for it.

As in test_compose.py, each check returns the problems it finds; every check is also run on a copy
broken in one specific way, to prove it can fail. Whether each manifest is a valid Kubernetes resource
(apiVersion, kind, fields and their types) is kubernetes-validate's to say, in test_validators.py.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from functools import cache
from pathlib import Path
from typing import Any, cast

import pytest
import yaml
from fastapi import FastAPI
from pydantic import BaseModel
from pydantic_settings import BaseSettings

from services.analyzer.app import create_app as create_analyzer
from services.analyzer.settings import AnalyzerSettings
from services.ingest.app import create_app as create_ingest
from services.ingest.settings import IngestSettings
from shared.settings import DEVELOPMENT_PLACEHOLDER_KEYS

REPO = Path(__file__).resolve().parents[2]
K8S = REPO / "deploy" / "k8s"
KUSTOMIZATION = "kustomization.yaml"
SETTINGS: dict[str, type[BaseSettings]] = {"ingest": IngestSettings, "analyzer": AnalyzerSettings}
PORT_SETTING = {"ingest": "INGEST_PORT", "analyzer": "ANALYZER_PORT"}
MIGRATE_COMMAND = ["python", "-m", "services.analyzer", "migrate"]
WAIT_COMMAND = ["python", "-m", "services.analyzer", "wait-for-schema"]
WORKLOADS = {"Deployment", "Job"}

Mapping = dict[str, Any]


@dataclass
class Manifests:
    """The kustomization and every object of the files it lists, each with the file it came from."""

    kustomization: Mapping
    objects: list[tuple[str, Mapping]]
    files: list[str]  # every YAML file in deploy/k8s except the kustomization


Check = Callable[[Manifests], list[str]]


# ---------------------------------------------------------------- reading


def load() -> Manifests:
    """The real deploy/k8s."""
    kustomization = yaml.safe_load((K8S / KUSTOMIZATION).read_text(encoding="utf-8"))
    files = sorted(p.name for p in K8S.glob("*.yaml") if p.name != KUSTOMIZATION)
    objects = []
    for name in files:
        for document in yaml.safe_load_all((K8S / name).read_text(encoding="utf-8")):
            if document is not None:
                objects.append((name, cast(Mapping, document)))
    return Manifests(kustomization=cast(Mapping, kustomization), objects=objects, files=files)


def of_kind(m: Manifests, kind: str) -> list[Mapping]:
    return [obj for _, obj in m.objects if obj.get("kind") == kind]


def named(m: Manifests, kind: str, name: str) -> Mapping:
    for obj in of_kind(m, kind):
        if obj.get("metadata", {}).get("name") == name:
            return obj
    return {}


def pod_spec(workload: Mapping) -> Mapping:
    return cast(Mapping, workload.get("spec", {}).get("template", {}).get("spec", {}))


def pod_labels(workload: Mapping) -> Mapping:
    return cast(Mapping, workload.get("spec", {}).get("template", {}).get("metadata", {}).get("labels") or {})


def containers(workload: Mapping, *, init: bool = True) -> list[Mapping]:
    spec = pod_spec(workload)
    return list(spec.get("containers") or []) + (list(spec.get("initContainers") or []) if init else [])


def workloads(m: Manifests) -> Iterator[Mapping]:
    for _, obj in m.objects:
        if obj.get("kind") in WORKLOADS:
            yield obj


def service_of(container: Mapping) -> str | None:
    """Which service a container runs (``python -m services.<name> ...``), from its command."""
    match = re.fullmatch(r"python -m services\.(ingest|analyzer)(?: .*)?", " ".join(container.get("command") or []))
    return match.group(1) if match else None


def config_data(m: Manifests, kind: str, name: str) -> dict[str, str]:
    obj = named(m, kind, name)
    return {**(obj.get("data") or {}), **(obj.get("stringData") or {})}


def env_names(m: Manifests, container: Mapping) -> tuple[set[str], list[str]]:
    """Every variable the container gets, and the problems with the maps and secrets it refers to."""
    names = {str(item["name"]) for item in container.get("env") or []}
    problems = []
    for source in container.get("envFrom") or []:
        for key, kind in (("configMapRef", "ConfigMap"), ("secretRef", "Secret")):
            if key in source:
                ref = source[key]["name"]
                if not named(m, kind, ref):
                    problems.append(f"{container['name']} reads {kind} {ref!r}, which no manifest defines")
                names |= set(config_data(m, kind, ref))
    for item in container.get("env") or []:
        ref = (item.get("valueFrom") or {}).get("secretKeyRef")
        if ref and ref.get("key") not in config_data(m, "Secret", ref.get("name", "")):
            problems.append(f"{container['name']}: {item['name']} refers to a missing secret key {ref!r}")
    return names, problems


def setting_variables(cls: type[BaseSettings]) -> set[str]:
    """The variables a settings class reads: field names in upper case, nested groups as ``GROUP__FIELD``."""
    names: set[str] = set()
    for name, info in cls.model_fields.items():
        default = info.get_default(call_default_factory=True)
        inner = list(type(default).model_fields) if isinstance(default, BaseModel) else []
        inner = inner or list(getattr(default, "__dataclass_fields__", {}))
        names.add(name.upper())
        names.update(f"{name.upper()}__{sub.upper()}" for sub in inner)
    return names


@cache
def routes(service: str) -> frozenset[str]:
    """The paths the service serves, from its OpenAPI document (the app is built, not started)."""
    app: FastAPI = (
        create_ingest(IngestSettings(_env_file=None, environment="test"))
        if service == "ingest"
        else create_analyzer(AnalyzerSettings(_env_file=None, environment="test"), consume=False)
    )
    return frozenset(app.openapi()["paths"])


def listening_port(m: Manifests, service: str, container: Mapping) -> int:
    """The port the service listens on in this container: its *_PORT setting, or the class default."""
    for item in container.get("env") or []:
        if item["name"] == PORT_SETTING[service]:
            return int(item["value"])
    for source in container.get("envFrom") or []:
        data = config_data(m, "ConfigMap", source.get("configMapRef", {}).get("name", ""))
        if PORT_SETTING[service] in data:
            return int(data[PORT_SETTING[service]])
    default = SETTINGS[service].model_fields[PORT_SETTING[service].lower()].default
    return int(default)


def resolve_port(container: Mapping, port: object) -> int | None:
    """A probe's or Service's port (a number or a container port's name) as a number."""
    for entry in container.get("ports") or []:
        if port in (entry.get("name"), entry.get("containerPort")):
            return int(entry["containerPort"])
    return None


# ---------------------------------------------------------------- checks


def check_kustomization(m: Manifests) -> list[str]:
    listed = list(m.kustomization.get("resources") or [])
    problems = [f"{name} is in deploy/k8s but not in kustomization.yaml" for name in m.files if name not in listed]
    problems += [f"kustomization.yaml lists {name}, which does not exist" for name in listed if name not in m.files]
    namespace = m.kustomization.get("namespace")
    if not namespace:
        problems.append("kustomization.yaml sets no namespace")
    for ns in of_kind(m, "Namespace"):
        if ns["metadata"]["name"] != namespace:
            problems.append(f"Namespace {ns['metadata']['name']!r} is not the kustomization's {namespace!r}")
    for _, obj in m.objects:
        other = obj.get("metadata", {}).get("namespace")
        if other and other != namespace:
            problems.append(f"{obj['kind']} {obj['metadata']['name']} pins namespace {other!r}")
    images = {str(c.get("image")) for w in workloads(m) for c in containers(w)}
    overridden = {str(i.get("name")) for i in m.kustomization.get("images") or []}
    if len(images) != 1 or not images <= overridden:
        problems.append(f"every container must run the one image set in kustomization.yaml, have {sorted(images)}")
    return problems


def check_objects_present(m: Manifests) -> list[str]:
    wanted = [
        ("ConfigMap", None),
        ("Secret", None),
        ("Deployment", "ingest"),
        ("Deployment", "analyzer"),
        ("Service", "ingest"),
        ("Service", "analyzer"),
        ("Job", "migrate"),
    ]
    problems = []
    for kind, name in wanted:
        if not (named(m, kind, name) if name else of_kind(m, kind)):
            problems.append(f"no {kind}{' ' + name if name else ''}")
    return problems


def check_selectors(m: Manifests) -> list[str]:
    problems = []
    for deployment in of_kind(m, "Deployment"):
        selector = deployment.get("spec", {}).get("selector", {}).get("matchLabels") or {}
        labels = pod_labels(deployment)
        if not selector or any(labels.get(k) != v for k, v in selector.items()):
            problems.append(f"Deployment {deployment['metadata']['name']}: selector {selector} misses its pods")
    for svc in of_kind(m, "Service"):
        selector = svc.get("spec", {}).get("selector") or {}
        targets = [
            d
            for d in of_kind(m, "Deployment")
            if selector and all(pod_labels(d).get(k) == v for k, v in selector.items())
        ]
        name = svc["metadata"]["name"]
        if len(targets) != 1:
            problems.append(f"Service {name} selects {len(targets)} Deployments, expected exactly 1")
            continue
        for port in svc.get("spec", {}).get("ports") or []:
            target = port.get("targetPort", port.get("port"))
            if not any(resolve_port(c, target) for c in containers(targets[0], init=False)):
                problems.append(f"Service {name}: targetPort {target!r} is no container port of its pods")
    return problems


def check_probes(m: Manifests) -> list[str]:
    problems = []
    for deployment in of_kind(m, "Deployment"):
        for container in containers(deployment, init=False):
            service = service_of(container)
            if service is None:
                problems.append(f"{container['name']} runs neither service: {container.get('command')}")
                continue
            paths = routes(service)
            listening = listening_port(m, service, container)
            for probe, path in (("livenessProbe", "/healthz"), ("readinessProbe", "/readyz")):
                get = (container.get(probe) or {}).get("httpGet") or {}
                if get.get("path") != path:
                    problems.append(f"{service}: {probe} should ask {path}, asks {get.get('path')!r}")
            for probe in ("startupProbe", "livenessProbe", "readinessProbe"):
                get = (container.get(probe) or {}).get("httpGet")
                if not get:
                    continue
                if get.get("path") not in paths:
                    problems.append(f"{service}: {probe} asks {get.get('path')!r}, which {service} does not serve")
                if resolve_port(container, get.get("port")) != listening:
                    problems.append(
                        f"{service}: {probe} asks port {get.get('port')!r}, {service} listens on {listening}"
                    )
    return problems


def check_env_is_settings(m: Manifests) -> list[str]:
    problems = []
    for workload in workloads(m):
        for container in containers(workload):
            service = service_of(container)
            if service is None:
                problems.append(f"{container['name']} runs neither service: {container.get('command')}")
                continue
            names, missing = env_names(m, container)
            problems += missing
            known = setting_variables(SETTINGS[service])
            problems += [
                f"{container['name']} sets {name}, which is not a setting of {service}"
                for name in sorted(names - known)
            ]
    return problems


def check_security(m: Manifests) -> list[str]:
    problems = []
    for workload in workloads(m):
        name = workload["metadata"]["name"]
        spec = pod_spec(workload)
        pod = spec.get("securityContext") or {}
        if pod.get("runAsNonRoot") is not True or not pod.get("runAsUser"):
            problems.append(f"{name}: the pod must set runAsNonRoot and a non-zero runAsUser")
        if spec.get("automountServiceAccountToken") is not False:
            problems.append(f"{name}: the pods need no Kubernetes API token; set automountServiceAccountToken: false")
        volumes = {v["name"]: v for v in spec.get("volumes") or []}
        for container in containers(workload):
            ctx = container.get("securityContext") or {}
            if ctx.get("allowPrivilegeEscalation") is not False or ctx.get("readOnlyRootFilesystem") is not True:
                problems.append(f"{name}/{container['name']}: needs allowPrivilegeEscalation false, read-only root")
            if "ALL" not in ((ctx.get("capabilities") or {}).get("drop") or []):
                problems.append(f"{name}/{container['name']}: must drop ALL capabilities")
            mounts = {v["mountPath"]: v["name"] for v in container.get("volumeMounts") or []}
            if "emptyDir" not in volumes.get(mounts.get("/tmp", ""), {}):
                problems.append(f"{name}/{container['name']}: a read-only root needs an emptyDir at /tmp")
    return problems


def check_resources(m: Manifests) -> list[str]:
    problems = []
    for workload in workloads(m):
        for container in containers(workload):
            resources = container.get("resources") or {}
            requests, limits = resources.get("requests") or {}, resources.get("limits") or {}
            if not {"cpu", "memory"} <= set(requests) or "memory" not in limits:
                problems.append(f"{container['name']}: needs cpu and memory requests and a memory limit")
    return problems


def check_graceful_termination(m: Manifests) -> list[str]:
    problems = []
    for deployment in of_kind(m, "Deployment"):
        name = deployment["metadata"]["name"]
        grace = pod_spec(deployment).get("terminationGracePeriodSeconds")
        if not isinstance(grace, int) or grace < 30:
            problems.append(f"{name}: terminationGracePeriodSeconds {grace!r}, expected at least 30")
            continue
        for container in containers(deployment, init=False):
            command = (((container.get("lifecycle") or {}).get("preStop") or {}).get("exec") or {}).get("command")
            if not command or command[0] != "sleep":
                problems.append(f"{name}: no preStop pause for the endpoint removal to reach the proxies")
            elif int(command[1]) * 2 > grace:
                problems.append(f"{name}: the preStop pause leaves too little of the grace period to stop")
        strategy = deployment.get("spec", {}).get("strategy", {}).get("rollingUpdate") or {}
        if strategy.get("maxUnavailable") not in (0, "0", "0%"):
            problems.append(f"{name}: a rollout should not take a replica away before its successor is ready")
    return problems


def check_migration(m: Manifests) -> list[str]:
    job = named(m, "Job", "migrate")
    analyzer = named(m, "Deployment", "analyzer")
    problems = []
    job_containers = containers(job, init=False)
    if len(job_containers) != 1 or job_containers[0].get("command") != MIGRATE_COMMAND:
        problems.append(f"the migrate Job must run {' '.join(MIGRATE_COMMAND)}")
    if pod_spec(job).get("restartPolicy") not in ("Never", "OnFailure") or "backoffLimit" not in job.get("spec", {}):
        problems.append("the migrate Job needs restartPolicy Never/OnFailure and a backoffLimit")
    main = containers(analyzer, init=False)
    env = {item["name"]: item.get("value") for c in main for item in c.get("env") or []}
    if str(env.get("ANALYZER_RUN_MIGRATIONS")).lower() != "false":
        problems.append("analyzer replicas must not migrate themselves (ANALYZER_RUN_MIGRATIONS=false)")
    inits = pod_spec(analyzer).get("initContainers") or []
    if not any((c.get("command") or [])[: len(WAIT_COMMAND)] == WAIT_COMMAND for c in inits):
        problems.append("the analyzer must wait for the migrated schema (an init container running wait-for-schema)")
    job_sources = [c.get("envFrom") for c in job_containers]
    if any(c.get("envFrom") != job_sources[0] for c in [*main, *inits]) if job_sources else True:
        problems.append("the Job, the wait and the analyzer must read the same configuration (the same DATABASE_URL)")
    return problems


def check_placeholders(m: Manifests) -> list[str]:
    """Secret values left as they are must stop the services, not run them open."""
    problems = []
    for config in of_kind(m, "ConfigMap"):
        if config.get("data", {}).get("ENVIRONMENT", "production") != "production":
            problems.append("ENVIRONMENT must be production, or the placeholder keys would be accepted")
    for secret in of_kind(m, "Secret"):
        for key, value in {**(secret.get("data") or {}), **(secret.get("stringData") or {})}.items():
            if key.endswith("_API_KEYS"):
                if any(part.strip() not in DEVELOPMENT_PLACEHOLDER_KEYS for part in str(value).split(",")):
                    problems.append(f"{key} in the repository is not a placeholder the services refuse")
            elif "changeme" not in str(value):
                problems.append(f"{key} does not look like a placeholder (no 'changeme')")
    return problems


def _selects(policy: Mapping, labels: Mapping) -> bool:
    wanted = (policy.get("spec", {}).get("podSelector") or {}).get("matchLabels") or {}
    return bool(wanted) and all(labels.get(k) == v for k, v in wanted.items())


def _ports(rules: list[Mapping]) -> set[object]:
    return {port.get("port") for rule in rules for port in rule.get("ports") or []}


def kafka_port(m: Manifests) -> int:
    """The port of the first broker in the ConfigMap's KAFKA_BOOTSTRAP_SERVERS."""
    first = config_data(m, "ConfigMap", "feedback-config").get("KAFKA_BOOTSTRAP_SERVERS", "").split(",")[0]
    return int(first.rsplit(":", 1)[-1]) if ":" in first else 9092


def check_network_policies(m: Manifests) -> list[str]:
    """Default deny; each workload allowed DNS and what it needs, and reached only from a named source."""
    policies = of_kind(m, "NetworkPolicy")
    problems = []
    denies = [
        p
        for p in policies
        if not (p.get("spec", {}).get("podSelector") or {})
        and {"Ingress", "Egress"} <= set(p.get("spec", {}).get("policyTypes") or [])
        and not p["spec"].get("ingress")
        and not p["spec"].get("egress")
    ]
    if not denies:
        problems.append("no default-deny NetworkPolicy (empty podSelector, Ingress and Egress, no rules)")
    needs = {"ingest": {kafka_port(m)}, "analyzer": {kafka_port(m), 5432, 443}, "migrate": {5432}}
    for workload in workloads(m):
        name = workload["metadata"]["name"]
        mine = [p for p in policies if _selects(p, pod_labels(workload))]
        if not mine:
            problems.append(f"{name}: no NetworkPolicy selects its pods")
            continue
        ingress = [rule for p in mine for rule in p["spec"].get("ingress") or []]
        egress = [rule for p in mine for rule in p["spec"].get("egress") or []]
        if 53 not in _ports(egress):
            problems.append(f"{name}: no egress to DNS (port 53)")
        missing = needs.get(name, set()) - _ports(egress)
        if missing:
            problems.append(f"{name}: no egress to port(s) {sorted(missing)}")
        for rule in ingress:
            if not rule.get("from"):
                problems.append(f"{name}: an ingress rule open to every source")
            for port in _ports([rule]):
                if not any(resolve_port(c, port) for c in containers(workload, init=False)):
                    problems.append(f"{name}: ingress to port {port!r}, which no container of it listens on")
        if ingress and workload["kind"] == "Job":
            problems.append(f"{name}: a Job serves nothing and needs no ingress")
    return problems


def _policy(m: Manifests, name: str) -> Mapping:
    return cast(Mapping, _object(m, "NetworkPolicy", name)["spec"])


CHECKS: list[Check] = [
    check_kustomization,
    check_objects_present,
    check_selectors,
    check_probes,
    check_env_is_settings,
    check_security,
    check_resources,
    check_graceful_termination,
    check_migration,
    check_placeholders,
    check_network_policies,
]


# ---------------------------------------------------------------- breakages


def _object(m: Manifests, kind: str, name: str) -> Mapping:
    obj = named(m, kind, name)
    assert obj, f"no {kind} {name}: update this breakage"
    return obj


def _container(m: Manifests, deployment: str) -> Mapping:
    return containers(_object(m, "Deployment", deployment), init=False)[0]


BREAKAGES: list[tuple[Check, str, Callable[[Manifests], None]]] = [
    (
        check_network_policies,
        "no default deny",
        lambda m: m.objects.remove(next(o for o in m.objects if o[1]["metadata"]["name"] == "default-deny")),
    ),
    (check_network_policies, "ingress from anywhere", lambda m: _policy(m, "ingest")["ingress"][0].pop("from")),
    (
        check_network_policies,
        "ingress to a port nobody listens on",
        lambda m: _policy(m, "analyzer")["ingress"][0]["ports"][0].update(port=9999),
    ),
    (check_network_policies, "no DNS", lambda m: _policy(m, "ingest")["egress"].pop()),
    (check_network_policies, "analyzer cut off from its database", lambda m: _policy(m, "analyzer")["egress"].pop(1)),
    (
        check_network_policies,
        "Kafka moved to another port",
        lambda m: _object(m, "ConfigMap", "feedback-config")["data"].update(KAFKA_BOOTSTRAP_SERVERS="kafka:9094"),
    ),
    (
        check_network_policies,
        "a workload no policy selects",
        lambda m: _policy(m, "migrate")["podSelector"]["matchLabels"].update({"app.kubernetes.io/component": "x"}),
    ),
    (check_kustomization, "a file not listed", lambda m: m.files.append("extra.yaml")),
    (check_kustomization, "a listed file missing", lambda m: m.kustomization["resources"].append("gone.yaml")),
    (check_kustomization, "two images", lambda m: _container(m, "ingest").update(image="other")),
    (
        check_kustomization,
        "pinned namespace",
        lambda m: _object(m, "Service", "ingest")["metadata"].update(namespace="x"),
    ),
    (
        check_objects_present,
        "no migrate Job",
        lambda m: m.objects.remove(next(o for o in m.objects if o[1]["kind"] == "Job")),
    ),
    (
        check_selectors,
        "deployment selector off its pods",
        lambda m: _object(m, "Deployment", "ingest")["spec"]["selector"]["matchLabels"].update(tier="x"),
    ),
    (
        check_selectors,
        "service selects nothing",
        lambda m: _object(m, "Service", "analyzer")["spec"]["selector"].update({"app.kubernetes.io/component": "api"}),
    ),
    (
        check_selectors,
        "service to an unnamed port",
        lambda m: _object(m, "Service", "analyzer")["spec"]["ports"][0].update(targetPort="web"),
    ),
    (
        check_probes,
        "readiness on /healthz",
        lambda m: _container(m, "analyzer")["readinessProbe"]["httpGet"].update(path="/healthz"),
    ),
    (
        check_probes,
        "probe on a missing path",
        lambda m: _container(m, "ingest")["startupProbe"]["httpGet"].update(path="/health"),
    ),
    (
        check_probes,
        "service listens elsewhere",
        lambda m: _container(m, "ingest")["env"].__setitem__(0, {"name": "INGEST_PORT", "value": "9000"}),
    ),
    (
        check_env_is_settings,
        "a misspelt setting",
        lambda m: _container(m, "analyzer")["env"].append({"name": "ANALYZER_RUN_MIGRATION", "value": "false"}),
    ),
    (
        check_env_is_settings,
        "an analyzer setting given to ingest",
        lambda m: _object(m, "ConfigMap", "feedback-config")["data"].update(DATABASE_URL="x"),
    ),
    (
        check_env_is_settings,
        "a missing secret",
        lambda m: _container(m, "ingest")["envFrom"][1]["secretRef"].update(name="nope"),
    ),
    (
        check_security,
        "runs as root",
        lambda m: pod_spec(_object(m, "Deployment", "analyzer"))["securityContext"].update(
            runAsUser=0, runAsNonRoot=False
        ),
    ),
    (
        check_security,
        "writable root",
        lambda m: _container(m, "ingest")["securityContext"].update(readOnlyRootFilesystem=False),
    ),
    (check_security, "no scratch", lambda m: _container(m, "analyzer").pop("volumeMounts")),
    (
        check_security,
        "API token mounted",
        lambda m: pod_spec(_object(m, "Job", "migrate")).pop("automountServiceAccountToken"),
    ),
    (check_resources, "no memory limit", lambda m: _container(m, "analyzer")["resources"].pop("limits")),
    (
        check_graceful_termination,
        "no grace",
        lambda m: pod_spec(_object(m, "Deployment", "analyzer")).update(terminationGracePeriodSeconds=5),
    ),
    (check_graceful_termination, "no preStop", lambda m: _container(m, "ingest").pop("lifecycle")),
    (
        check_graceful_termination,
        "rollout drops a replica",
        lambda m: _object(m, "Deployment", "ingest")["spec"]["strategy"]["rollingUpdate"].update(maxUnavailable=1),
    ),
    (
        check_migration,
        "job serves instead",
        lambda m: containers(_object(m, "Job", "migrate"))[0].update(command=["python", "-m", "services.analyzer"]),
    ),
    (
        check_migration,
        "replicas migrate",
        lambda m: _container(m, "analyzer")["env"].__setitem__(1, {"name": "ANALYZER_RUN_MIGRATIONS", "value": "true"}),
    ),
    (check_migration, "no wait", lambda m: pod_spec(_object(m, "Deployment", "analyzer")).pop("initContainers")),
    (
        check_migration,
        "job on another database",
        lambda m: containers(_object(m, "Job", "migrate"))[0]["envFrom"][1]["secretRef"].update(name="feedback-ingest"),
    ),
    (
        check_placeholders,
        "a real-looking key",
        lambda m: _object(m, "Secret", "feedback-ingest")["stringData"].update(INGEST_API_KEYS="s3cr3t"),
    ),
    (
        check_placeholders,
        "development environment",
        lambda m: _object(m, "ConfigMap", "feedback-config")["data"].update(ENVIRONMENT="development"),
    ),
]


# ---------------------------------------------------------------- tests


@pytest.mark.parametrize("check", CHECKS, ids=[c.__name__ for c in CHECKS])
def test_manifests_pass(check: Check) -> None:
    assert check(load()) == []


@pytest.mark.parametrize(
    ("check", "breakage"),
    [(check, breakage) for check, _, breakage in BREAKAGES],
    ids=[f"{check.__name__}: {label}" for check, label, _ in BREAKAGES],
)
def test_check_catches_a_broken_copy(check: Check, breakage: Callable[[Manifests], None]) -> None:
    manifests = load()
    broken = copy.deepcopy(manifests)
    breakage(broken)
    assert check(manifests) == [], "the unbroken manifests must pass, so the breakage is what the check caught"
    assert check(broken), f"{check.__name__} did not notice the breakage"


def test_every_check_can_fail() -> None:
    covered = {check for check, _, _ in BREAKAGES}
    assert [check.__name__ for check in CHECKS if check not in covered] == []
