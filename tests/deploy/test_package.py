"""The dashboard's templates and assets ship: in the installed package (package-data) and in the image.

The analyzer reads its templates and static files from the package directory at run time, so a file
missing from the wheel or from the container image is a dashboard that fails on its first request.
"""

from __future__ import annotations

import re
import tomllib
from fnmatch import fnmatch
from pathlib import Path

from services.analyzer.dashboard import templating

REPO = Path(__file__).resolve().parents[2]
DASHBOARD = REPO / "services" / "analyzer" / "dashboard"
DATA_DIRS = ("static", "templates")


def package_data(pyproject: str) -> list[str]:
    """The package-data globs of the dashboard package in a pyproject.toml's text."""
    data: dict[str, list[str]] = tomllib.loads(pyproject)["tool"]["setuptools"]["package-data"]
    return data.get("services.analyzer.dashboard", [])


def unshipped(globs: list[str], package: Path = DASHBOARD) -> list[str]:
    """The files of the package's data folders that no glob ships (paths relative to the package)."""
    shipped = {path for pattern in globs for path in package.glob(pattern)}
    found = [path for folder in DATA_DIRS for path in (package / folder).rglob("*") if path.is_file()]
    return sorted(str(path.relative_to(package)) for path in found if path not in shipped)


def runtime_copies(dockerfile: str) -> list[str]:
    """The sources the Dockerfile's last stage copies from the build context (not from another stage)."""
    last_stage = re.split(r"^FROM\s", dockerfile, flags=re.M)[-1]
    return [
        line.split()[1]
        for line in last_stage.splitlines()
        if line.startswith("COPY ") and not line.startswith("COPY --from")
    ]


def ignored(path: str, dockerignore: str) -> bool:
    """Whether a build-context path is left out by the .dockerignore's patterns (no negations used here)."""
    patterns = [line.strip() for line in dockerignore.splitlines() if line.strip() and not line.startswith("#")]
    return any(fnmatch(path, p) or fnmatch(path, p.removeprefix("**/")) for p in patterns)


def test_the_templates_are_where_the_environment_loads_them() -> None:
    assert templating.TEMPLATES == DASHBOARD / "templates"
    assert {p.name for p in templating.TEMPLATES.glob("*.html")} >= {
        "_layout.html",
        "_macros.html",
        "accounts.html",
        "account.html",
        "alerts.html",
        "backtest.html",
        "login.html",
        "message.html",
    }


def test_package_data_ships_every_template_and_asset() -> None:
    assert unshipped(package_data((REPO / "pyproject.toml").read_text())) == []


def test_a_template_outside_the_globs_is_caught(tmp_path: Path) -> None:
    (tmp_path / "templates" / "partials").mkdir(parents=True)
    (tmp_path / "static").mkdir()
    (tmp_path / "templates" / "page.html").write_text("x")
    (tmp_path / "templates" / "partials" / "row.html").write_text("x")
    (tmp_path / "static" / "dashboard.css").write_text("x")
    assert unshipped(["static/*", "templates/*.html"], tmp_path) == ["templates/partials/row.html"]
    assert unshipped(["static/*"], tmp_path) == ["templates/page.html", "templates/partials/row.html"]


def test_the_image_copies_the_dashboard_files() -> None:
    dockerfile = (REPO / "deploy" / "Dockerfile").read_text()
    dockerignore = (REPO / "deploy" / "Dockerfile.dockerignore").read_text()
    copied = runtime_copies(dockerfile)
    for folder in DATA_DIRS:
        for path in (DASHBOARD / folder).iterdir():
            relative = str(path.relative_to(REPO))
            assert any(relative.startswith(source) for source in copied), f"{relative} is not copied into the image"
            assert not ignored(relative, dockerignore), f"{relative} is left out of the build context"


def test_a_dockerfile_that_skips_the_sources_or_ignores_templates_is_caught() -> None:
    assert runtime_copies("FROM a AS b\nCOPY services/ services/\nFROM c\nCOPY --from=b /x /x\nCOPY shared/ s/\n") == [
        "shared/"
    ]
    assert ignored("services/analyzer/dashboard/templates/account.html", "**/*.html\n")
    assert not ignored("services/analyzer/dashboard/templates/account.html", "**/__pycache__\n*.db\n")
