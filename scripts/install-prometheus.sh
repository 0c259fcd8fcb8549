#!/usr/bin/env bash
# Installs Prometheus and promtool from Debian's `prometheus` package, for the alert-rule unit
# tests (promtool) and the metrics integration test (a real Prometheus scraping 127.0.0.1).
# Idempotent: when both binaries are on PATH it only says so. The package's own service is not
# started: the tests run their own Prometheus with their own configuration and ports.
set -euo pipefail

if command -v prometheus >/dev/null 2>&1 && command -v promtool >/dev/null 2>&1; then
  echo "install-prometheus: $(prometheus --version 2>&1 | head -1) already installed"
  exit 0
fi

if [[ $(id -u) -ne 0 ]]; then
  echo "install-prometheus: needs root for apt-get (or install Debian's 'prometheus' package yourself)" >&2
  exit 1
fi

# Keep the package's postinst from starting a system Prometheus on :9090 (policy-rc.d exit 101
# means "do not start services"); an existing policy is left as it was.
POLICY=/usr/sbin/policy-rc.d
ADDED_POLICY=0
if [[ ! -e $POLICY ]]; then
  printf '#!/bin/sh\nexit 101\n' >"$POLICY"
  chmod +x "$POLICY"
  ADDED_POLICY=1
fi
trap '[[ $ADDED_POLICY == 1 ]] && rm -f "$POLICY"' EXIT

export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends prometheus >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends prometheus >/dev/null
fi
echo "install-prometheus: installed $(prometheus --version 2>&1 | head -1)"
