"""The deployment files through the validators their users run: no hand-written linting.

- ``docker-compose.yml`` against the Compose specification's JSON schema (vendored in
  ``tests/deploy/schemas/``) with ``check-jsonschema``;
- every Kubernetes resource in ``deploy/k8s/`` with ``kubernetes-validate --strict`` (it ships the
  Kubernetes schemas; ``kustomization.yaml`` is a kustomize file, not a resource, and
  ``test_k8s.check_kustomization`` checks it);
- all of that YAML, and the Prometheus files, with ``yamllint`` and ``tests/deploy/yamllint.yaml``.

Each validator also runs on a copy broken in one way and must reject it, so none passes vacuously.
The project's own rules (probe paths, settings, privileges, network policies) stay in test_compose.py
and test_k8s.py.
"""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[2]
COMPOSE_FILE = REPO / "docker-compose.yml"
COMPOSE_SCHEMA = REPO / "tests" / "deploy" / "schemas" / "compose-spec.json"
YAMLLINT_CONFIG = REPO / "tests" / "deploy" / "yamllint.yaml"
K8S = REPO / "deploy" / "k8s"
NOT_RESOURCES = {"kustomization.yaml"}
BIN = Path(sys.executable).parent  # the environment's console scripts, as `make test` installs them


def run(tool: str, *args: str | Path) -> subprocess.CompletedProcess[str]:
    """A validator's command line, from the repository root, with its output."""
    return subprocess.run(
        [str(BIN / tool), *map(str, args)], cwd=REPO, capture_output=True, text=True, timeout=120, check=False
    )


def compose_errors(path: Path) -> str:
    """check-jsonschema's complaints about a compose file ("" when it is valid)."""
    done = run("check-jsonschema", "--schemafile", COMPOSE_SCHEMA, path)
    return "" if done.returncode == 0 else done.stdout + done.stderr


def k8s_errors(*paths: Path) -> str:
    """kubernetes-validate's (strict: unknown fields rejected) complaints about manifests ("" when valid).

    Its warnings count too: a kind it has no schema for (a misspelt one) is only a warning, exit 0.
    """
    done = run("kubernetes-validate", "--strict", "--quiet", *paths)
    output = (done.stdout + done.stderr).strip()
    return output if done.returncode != 0 or output else ""


def yamllint_errors(*paths: Path) -> str:
    """yamllint's complaints under the repository's configuration ("" when there are none, warnings too)."""
    done = run("yamllint", "--strict", "-f", "parsable", "-c", YAMLLINT_CONFIG, *paths)
    return "" if done.returncode == 0 else done.stdout + done.stderr


def manifests() -> list[Path]:
    """The Kubernetes resources of deploy/k8s/."""
    return sorted(p for p in K8S.glob("*.yaml") if p.name not in NOT_RESOURCES)


def broken_copy(source: Path, tmp_path: Path, old: str, new: str) -> Path:
    """``source`` with its first ``old`` replaced by ``new``, written beside the test."""
    text = source.read_text()
    assert old in text, f"{old!r} not in {source.name}: update this breakage"
    copy = tmp_path / source.name
    copy.write_text(text.replace(old, new, 1))
    return copy


def test_the_compose_file_follows_the_compose_specification() -> None:
    assert compose_errors(COMPOSE_FILE) == ""


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("    read_only: true\n", "    read_only: true\n    restrat: always\n"),  # an unknown key
        ("condition: service_healthy", "condition: service_ready"),  # no such condition
        ("    read_only: true\n", "    read_only: [true]\n"),  # the wrong type
    ],
    ids=["unknown key", "unknown condition", "wrong type"],
)
def test_the_schema_rejects_a_broken_compose_file(tmp_path: Path, old: str, new: str) -> None:
    assert compose_errors(broken_copy(COMPOSE_FILE, tmp_path, old, new))


def test_the_kubernetes_manifests_are_valid_resources() -> None:
    found = manifests()
    assert len(found) >= 9, "every manifest of deploy/k8s/ is validated"
    assert k8s_errors(*found) == ""


@pytest.mark.parametrize(
    ("file", "old", "new"),
    [
        ("analyzer-deployment.yaml", "replicas: ", "replicaz: "),  # an unknown field (strict)
        ("ingest-deployment.yaml", "readOnlyRootFilesystem: true", "readOnlyRootFilesystem: yes please"),
        ("networkpolicies.yaml", "kind: NetworkPolicy", "kind: NetworkPolice"),  # no such kind
    ],
    ids=["unknown field", "wrong type", "unknown kind"],
)
def test_kubernetes_validate_rejects_a_broken_manifest(tmp_path: Path, file: str, old: str, new: str) -> None:
    assert k8s_errors(broken_copy(K8S / file, tmp_path, old, new))


def test_the_deployment_yaml_passes_yamllint() -> None:
    # Relative to the repository root, where the configuration's ignore patterns are anchored.
    assert yamllint_errors(Path("docker-compose.yml"), Path("deploy/k8s"), Path("deploy/prometheus")) == ""


@pytest.mark.parametrize(
    ("old", "new"),
    [
        ("services:\n", "services:\nservices:\n"),  # a duplicated key
        ("    read_only: true\n", "    read_only: true   \n"),  # trailing spaces
        ("    read_only: true\n", "      read_only: true\n"),  # wrong indentation
    ],
    ids=["duplicate key", "trailing spaces", "indentation"],
)
def test_yamllint_rejects_a_broken_file(tmp_path: Path, old: str, new: str) -> None:
    assert yamllint_errors(broken_copy(COMPOSE_FILE, tmp_path, old, new))
