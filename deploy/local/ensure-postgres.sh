#!/usr/bin/env bash
# Make sure PostgreSQL server binaries exist for the test suite (it starts a private cluster itself).
# Installs Debian's postgresql when missing and we may; otherwise says exactly what to install.
set -euo pipefail
if [ -n "${TEST_POSTGRES_URL:-}" ]; then exit 0; fi
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then exit 0; fi
if command -v apt-get >/dev/null 2>&1; then
  SUDO=""
  if [ "$(id -u)" -ne 0 ]; then
    if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
      echo "PostgreSQL is missing: run 'sudo apt-get install -y postgresql' (or set TEST_POSTGRES_URL)" >&2; exit 1
    fi
  fi
  echo "installing Debian's postgresql for the test suite..."
  $SUDO apt-get update -qq
  DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq postgresql >/dev/null
  # The package starts a system cluster we do not use; stop it to keep port 5432 free.
  $SUDO service postgresql stop >/dev/null 2>&1 || true
  exit 0
fi
echo "PostgreSQL server binaries are missing: install PostgreSQL 15+ (macOS: brew install postgresql@16)," >&2
echo "or set TEST_POSTGRES_URL=postgresql+asyncpg://user:pass@host:port/db to use a running server." >&2
exit 1
