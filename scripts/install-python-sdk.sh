#!/usr/bin/env bash
# Installs the official A2A Python SDK (a2a-sdk, pinned, from PyPI) into virtual environments under
# the project, for the Python example agent and the interop tests:
#   .tools/venv        a2a-sdk 1.x  (examples/python/requirements.txt)
#   .tools/venv-a2a03  a2a-sdk 0.3.x (examples/python/requirements-0.3.txt)
# Idempotent: a venv whose recorded requirements match is left alone (one file comparison).
# Usage: scripts/install-python-sdk.sh [--only 1|0.3]
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
ONLY="${2:-}"
[[ "${1:-}" == "--only" ]] || ONLY=""

# a2a-sdk needs Python 3.10 or newer.
PYTHON="${A2A_PYTHON:-python3}"
if ! "$PYTHON" -c 'import sys; sys.exit(0 if sys.version_info >= (3, 10) else 1)' 2>/dev/null; then
  echo "install-python-sdk: $PYTHON is missing or older than 3.10 (set A2A_PYTHON to a newer interpreter)" >&2
  exit 1
fi

install_venv() {
  local venv="$1" requirements="$2"
  local stamp="$venv/.a2a-deploy-requirements"
  if [[ -x "$venv/bin/python" && -f "$stamp" ]] && cmp -s "$stamp" "$requirements"; then
    echo "install-python-sdk: ${venv#"$ROOT"/} is up to date ($(grep '^a2a-sdk' "$requirements"))"
    return 0
  fi
  echo "install-python-sdk: installing $(grep '^a2a-sdk' "$requirements") into ${venv#"$ROOT"/}"
  rm -rf "$venv"
  "$PYTHON" -m venv "$venv"
  PIP_ROOT_USER_ACTION=ignore "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-input \
    -r "$requirements" >&2
  cp "$requirements" "$stamp"
}

mkdir -p "$TOOLS"
[[ -z "$ONLY" || "$ONLY" == "1" ]] && install_venv "$TOOLS/venv" "$ROOT/examples/python/requirements.txt"
[[ -z "$ONLY" || "$ONLY" == "0.3" ]] && install_venv "$TOOLS/venv-a2a03" "$ROOT/examples/python/requirements-0.3.txt"
exit 0
