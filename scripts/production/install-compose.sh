#!/usr/bin/env bash
# Installs Debian's `docker-compose` for the production test's check of docker-compose.yml
# (`docker-compose config`: the file is valid and pins the server version tested here).
# Idempotent: when `docker-compose` is on PATH it only says so.
set -euo pipefail

if command -v docker-compose >/dev/null 2>&1; then
  echo "install-compose: $(docker-compose version --short 2>/dev/null || echo '?') already installed"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install-compose: needs root for apt-get (or install Debian's 'docker-compose' package yourself)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends docker-compose >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends docker-compose >/dev/null
fi
echo "install-compose: installed docker-compose $(docker-compose version --short 2>/dev/null || echo '?')"
