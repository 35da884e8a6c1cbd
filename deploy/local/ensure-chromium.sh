#!/usr/bin/env bash
# Make sure a headless browser and its WebDriver exist for the dashboard's browser tests.
# Installs Debian's chromium and chromium-driver when missing and we may; otherwise says what to install.
set -euo pipefail
have_browser() { command -v chromium >/dev/null 2>&1 || [ -n "${DASHBOARD_TEST_CHROME:-}" ]; }
have_driver() { command -v chromedriver >/dev/null 2>&1 || [ -n "${DASHBOARD_TEST_CHROMEDRIVER:-}" ]; }
if have_browser && have_driver; then exit 0; fi
purpose="the dashboard's browser tests"
if ! have_browser; then bash "$(dirname "$0")/apt-install.sh" chromium "$purpose"; fi
if ! have_driver; then bash "$(dirname "$0")/apt-install.sh" chromium-driver "$purpose"; fi
