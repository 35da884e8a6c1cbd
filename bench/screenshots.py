"""``python -m bench.screenshots``: the dashboard pictures of the README and docs/dashboard.md.

Runs the browser test (tests/e2e/test_dashboard.py, on SQLite) with ``DASHBOARD_SCREENSHOTS``
pointing at ``docs/images``: the pictures are the ones the test takes of the seeded portfolio, after
it has checked every figure on them against the JSON API. Needs what ``make test`` needs (Java and
Maven for the broker, Chromium and its WebDriver: ``bash deploy/local/ensure-chromium.sh``).
"""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parent.parent


def main() -> int:
    """Take the screenshots; the test's exit status."""
    os.environ["DASHBOARD_SCREENSHOTS"] = str(REPO / "docs" / "images")
    os.chdir(REPO)
    return int(pytest.main(["tests/e2e/test_dashboard.py", "-k", "sqlite", "-q", "-p", "no:cacheprovider"]))


if __name__ == "__main__":
    sys.exit(main())
