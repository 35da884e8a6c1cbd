#!/usr/bin/env bash
# Make sure PostgreSQL server binaries exist for the test suite (it starts a private cluster itself).
# Installs Debian's postgresql when missing and we may; otherwise says exactly what to install.
set -euo pipefail
if [ -n "${TEST_POSTGRES_URL:-}" ]; then exit 0; fi
if ls /usr/lib/postgresql/*/bin/initdb >/dev/null 2>&1 || command -v initdb >/dev/null 2>&1; then exit 0; fi
if ! bash "$(dirname "$0")/apt-install.sh" postgresql "the test suite"; then
  echo "or install PostgreSQL 15+ otherwise (macOS: brew install postgresql@16), or set" >&2
  echo "TEST_POSTGRES_URL=postgresql+asyncpg://user:pass@host:port/db to use a running server." >&2
  exit 1
fi
# The package starts a system cluster we do not use; stop it to keep port 5432 free.
service postgresql stop >/dev/null 2>&1 || sudo -n service postgresql stop >/dev/null 2>&1 || true
