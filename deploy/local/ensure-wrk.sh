#!/usr/bin/env bash
# Make sure wrk (the HTTP load generator of the ingest benchmark) is installed.
# Installs Debian's wrk when missing and we may; otherwise says exactly what to install.
set -euo pipefail
if command -v wrk >/dev/null 2>&1; then exit 0; fi
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
      echo "wrk is missing: run 'sudo apt-get install -y wrk'" >&2; exit 1
    fi
  fi
  echo "installing Debian's wrk for the ingest benchmark..."
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq wrk >/dev/null
  exit 0
fi
echo "wrk is missing: install it (macOS: brew install wrk)" >&2
exit 1
