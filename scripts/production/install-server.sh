#!/usr/bin/env bash
# Installs the pinned production Temporal pieces into .tools/bin (idempotent):
#   temporal-server     go.temporal.io/server/cmd/server            (the Temporal server)
#   temporal-sql-tool   go.temporal.io/server/cmd/tools/sql         (its SQL schema tool)
#   temporal-ui-server  github.com/temporalio/ui-server/v2/cmd/server (the Web UI, built in
#                       deploy/production/ui-server so go.sum pins its dependencies)
# Go builds land in a cache outside the repository, keyed by version ($A2A_DEPLOY_CACHE,
# default ~/.cache/a2a-deploy), so another clone on the same machine reuses them; .tools/bin
# holds links. A second run builds nothing. Building needs Go >= 1.21 (GOTOOLCHAIN=auto then
# fetches the Go the server needs through the module proxy); Debian's golang-go is installed
# when no go is found.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SERVER_VERSION=v1.32.2
UI_VERSION=v2.56.0
CACHE=${A2A_DEPLOY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/a2a-deploy}
BIN=$ROOT/.tools/bin
SERVER_DIR=$CACHE/temporal-server-$SERVER_VERSION/bin
UI_DIR=$CACHE/temporal-ui-server-$UI_VERSION/bin
mkdir -p "$BIN"

go_cmd() {
  if ! command -v go >/dev/null; then
    [[ -x /usr/local/go/bin/go ]] && PATH=$PATH:/usr/local/go/bin
  fi
  if ! command -v go >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go >/dev/null
  fi
  # Builds are CPU heavy: stay polite to whatever else runs on the machine.
  GOTOOLCHAIN=auto nice -n 10 go "$@"
}

built=()
if [[ ! -x $SERVER_DIR/server || ! -x $SERVER_DIR/sql ]]; then
  echo "building Temporal server $SERVER_VERSION into $SERVER_DIR (several minutes the first time)" >&2
  GOBIN=$SERVER_DIR go_cmd install "go.temporal.io/server/cmd/server@$SERVER_VERSION" \
    "go.temporal.io/server/cmd/tools/sql@$SERVER_VERSION"
  built+=("temporal-server $SERVER_VERSION")
fi
if [[ ! -x $UI_DIR/ui-server ]]; then
  echo "building Temporal UI server $UI_VERSION into $UI_DIR" >&2
  mkdir -p "$UI_DIR"
  (cd "$ROOT/deploy/production/ui-server" && go_cmd build -o "$UI_DIR/ui-server.tmp" github.com/temporalio/ui-server/v2/cmd/server)
  mv "$UI_DIR/ui-server.tmp" "$UI_DIR/ui-server"
  built+=("temporal-ui-server $UI_VERSION")
fi

link() { [[ "$(readlink "$BIN/$2" 2>/dev/null)" == "$1" ]] || ln -sfn "$1" "$BIN/$2"; }
link "$SERVER_DIR/server" temporal-server
link "$SERVER_DIR/sql" temporal-sql-tool
link "$UI_DIR/ui-server" temporal-ui-server

if ((${#built[@]})); then
  echo "built: ${built[*]}; installed in $BIN"
else
  echo "temporal-server $SERVER_VERSION, temporal-ui-server $UI_VERSION already installed in $BIN"
fi
