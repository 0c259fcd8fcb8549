#!/usr/bin/env bash
# Installs one Debian package for a command the tests need, idempotently, and prints one line:
#
#   scripts/install-debian-tool.sh COMMAND PACKAGE
#
# When COMMAND is on PATH it only says so; otherwise it installs PACKAGE with apt-get (root
# needed; the package lists are refreshed only if the first try fails).
set -euo pipefail

CMD="${1:?usage: install-debian-tool.sh COMMAND PACKAGE}"
PKG="${2:?usage: install-debian-tool.sh COMMAND PACKAGE}"

if command -v "$CMD" >/dev/null 2>&1; then
  echo "install-$CMD: already installed ($(command -v "$CMD"))"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install-$CMD: needs root for apt-get (or install Debian's '$PKG' package yourself)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends "$PKG" >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends "$PKG" >/dev/null
fi
echo "install-$CMD: installed Debian's $PKG"
