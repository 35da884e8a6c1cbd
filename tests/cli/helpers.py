"""Running ``feedback`` as a real subprocess, isolated from the developer's shell and ``.env``."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from deploy.kafka.broker import REPO

# Variables a CLI process may inherit: enough to run Python, nothing that configures the services.
PASSED_THROUGH = ("PATH", "HOME", "LANG", "LC_ALL", "TMPDIR")


@dataclass
class Run:
    """A finished CLI process."""

    args: list[str]
    code: int
    out: str
    err: str

    def json(self) -> Any:
        """stdout parsed as JSON."""
        return json.loads(self.out)

    def __str__(self) -> str:
        return f"feedback {' '.join(self.args)} -> {self.code}\nstdout:\n{self.out}\nstderr:\n{self.err}"


def feedback(*args: str, env: dict[str, str] | None = None, cwd: Path, stdin: str | None = None) -> Run:
    """Run ``python -m services.cli ARGS`` (what the ``feedback`` script runs) in ``cwd`` with only ``env``.

    ``cwd`` is a test's own folder, so the repository's ``.env`` (if a developer has one) is not read.
    """
    base = {name: os.environ[name] for name in PASSED_THROUGH if name in os.environ}
    process = subprocess.run(
        [sys.executable, "-m", "services.cli", *args],
        env={**base, "PYTHONPATH": str(REPO), **(env or {})},
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    return Run(list(args), process.returncode, process.stdout, process.stderr)
