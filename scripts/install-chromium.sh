#!/usr/bin/env bash
# Installs Debian's `chromium` (headless) for the Web UI test (test/integration/web-ui.test.ts),
# which drives it over its DevTools pipe: no browser download, no puppeteer.
exec bash "$(dirname "${BASH_SOURCE[0]}")/install-debian-tool.sh" chromium chromium
