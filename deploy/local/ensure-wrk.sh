#!/usr/bin/env bash
# Make sure wrk (the HTTP load generator of the ingest benchmark) is installed.
set -euo pipefail
if command -v wrk >/dev/null 2>&1; then exit 0; fi
exec bash "$(dirname "$0")/apt-install.sh" wrk "the ingest benchmark (make bench)"
