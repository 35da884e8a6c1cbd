#!/usr/bin/env bash
# Install a Debian package for a make target, as root or with passwordless sudo; otherwise say how.
# Usage: apt-install.sh PACKAGE PURPOSE   (exit 0 installed, 1 could not)
set -euo pipefail
package="$1"
purpose="$2"
if ! command -v apt-get >/dev/null 2>&1; then
  echo "$package is missing for $purpose: install it with your system's package manager" >&2
  exit 1
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then
  if command -v sudo >/dev/null 2>&1 && sudo -n true 2>/dev/null; then SUDO="sudo -n"; else
    echo "$package is missing for $purpose: run 'sudo apt-get install -y $package'" >&2
    exit 1
  fi
fi
echo "installing Debian's $package for $purpose..."
$SUDO apt-get update -qq
DEBIAN_FRONTEND=noninteractive $SUDO apt-get install -y -qq "$package" >/dev/null
