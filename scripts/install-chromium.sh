#!/usr/bin/env bash
# Installs Debian's `chromium` (headless) for the Web UI test (test/integration/web-ui.test.ts),
# which drives it over its DevTools pipe: no browser download, no puppeteer.
# Idempotent: when `chromium` is on PATH it only says so.
set -euo pipefail

if command -v chromium >/dev/null 2>&1; then
  echo "install-chromium: $(chromium --version 2>/dev/null | head -1) already installed"
  exit 0
fi
if [[ $(id -u) -ne 0 ]]; then
  echo "install-chromium: needs root for apt-get (or install Debian's 'chromium' package yourself)" >&2
  exit 1
fi
export DEBIAN_FRONTEND=noninteractive
if ! apt-get install -y --no-install-recommends chromium >/dev/null 2>&1; then
  apt-get update -qq
  apt-get install -y -qq --no-install-recommends chromium >/dev/null
fi
echo "install-chromium: installed $(chromium --version 2>/dev/null | head -1)"
