#!/usr/bin/env bash
# A production-shaped Temporal cluster on this machine, every piece real and pinned:
# PostgreSQL (Debian's, its own data directory and port), the Temporal server v1.32.2 on it
# (deploy/production/temporal-server.yaml: frontend and internode on mutual TLS), a namespace
# with retention, a2a-deploy's search attributes, and the Temporal Web UI. Idempotent: `up`
# again starts only what is not running, and never touches data that exists.
#
#   cluster.sh up [--frontend-ip IP]   set up what is missing, start what is stopped; prints how to connect
#   cluster.sh down [--purge]          stop everything (--purge: and delete the state directory)
#   cluster.sh status                  one line per component
#   cluster.sh client NAME             a client certificate and a profile for a worker or a host
#   cluster.sh restart-postgres        restart PostgreSQL (what an upgrade or a failover does)
#
# State lives in $A2A_PROD_DIR (default .state/production): certs/ (the CA and every
# certificate), pg/ (the database), temporal/ and ui/ (logs, pids), clients/NAME/ (what a host
# needs), temporal.toml (the admin profile: `TEMPORAL_CONFIG_FILE=… a2a-deploy status`).
# Ports, all on loopback unless --frontend-ip says otherwise: PostgreSQL 29432, frontend gRPC
# 29233 (HTTP 29243), history/matching/worker 29234/29235/29239, membership +700, UI 29080.
# --frontend-ip: the address hosts dial (e.g. the machine's LAN address); remembered for later runs.
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
STATE=${A2A_PROD_DIR:-$ROOT/.state/production}
PG_PORT=${A2A_PROD_PG_PORT:-29432}
PORT_BASE=${A2A_PROD_PORT_BASE:-29233}
UI_PORT=${A2A_PROD_UI_PORT:-29080}
NAMESPACE=${A2A_PROD_NAMESPACE:-default}
RETENTION=${A2A_PROD_RETENTION:-7d}
BIND_IP=127.0.0.1
CERTS=$STATE/certs
BIN=$ROOT/.tools/bin
SEARCH_ATTRIBUTES=(A2AJobName:Keyword A2APhase:Keyword A2ATopology:Keyword A2APaused:Bool)

die() { echo "cluster.sh: $*" >&2; exit 1; }
log() { echo "$*" >&2; }
alive() { [[ -s $1 ]] && kill -0 "$(<"$1")" 2>/dev/null; }
frontend_ip() { cat "$STATE/frontend-ip" 2>/dev/null || echo "$BIND_IP"; }

# The newest installed PostgreSQL's bin folder (installing it first when there is none).
newest_pg_bin() { find /usr/lib/postgresql -mindepth 2 -maxdepth 2 -name bin -type d 2>/dev/null | sort -V | tail -1; }
pg_bin() {
  local dir
  dir=$(newest_pg_bin)
  if [[ -z $dir ]]; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq postgresql >/dev/null
    dir=$(newest_pg_bin)
  fi
  echo "$dir"
}

temporal_cli() {
  local cli=${TEMPORAL_CLI:-$BIN/temporal}
  [[ -x $cli ]] || bash "$ROOT/scripts/install-temporal.sh" >/dev/null
  TEMPORAL_CONFIG_FILE=$STATE/temporal.toml "$cli" "$@"
}

# A profile file for the envconfig-aware clients (a2a-deploy, the temporal CLI).
write_profile() { # FILE CERT_NAME DIR_OF_FILES
  cat >"$1.tmp" <<EOF
# Connects to the a2a-deploy production cluster with client certificate $2.
[profile.default]
address = "$(frontend_ip):$PORT_BASE"
namespace = "$NAMESPACE"

[profile.default.tls]
client_cert_path = "$3/$2.pem"
client_key_path = "$3/$2.key"
server_ca_cert_path = "$3/ca.pem"
server_name = "temporal-server"
EOF
  mv "$1.tmp" "$1"
}

certs_up() {
  local ip
  ip=$(frontend_ip)
  bash "$ROOT/scripts/production/certs.sh" "$CERTS" ca >&2
  bash "$ROOT/scripts/production/certs.sh" "$CERTS" server temporal-server localhost 127.0.0.1 "$ip" >&2
  bash "$ROOT/scripts/production/certs.sh" "$CERTS" client a2a-admin >&2
  bash "$ROOT/scripts/production/certs.sh" "$CERTS" client temporal-ui >&2
  # The server certificate must name the frontend address hosts dial.
  openssl x509 -in "$CERTS/temporal-server.pem" -noout -ext subjectAltName | grep -q "IP Address:$ip\b" ||
    die "$CERTS/temporal-server.pem does not name $ip: remove it (and temporal-server.key) and run up again"
  write_profile "$STATE/temporal.toml" a2a-admin "$CERTS"
}

pg_up() {
  local bin data=$STATE/pg/data
  bin=$(pg_bin)
  mkdir -p "$STATE/pg/run" "$STATE/secrets"
  chmod 700 "$STATE/secrets"
  [[ -s $STATE/secrets/pg-password ]] || (umask 077 && openssl rand -hex 24 >"$STATE/secrets/pg-password")
  if [[ ! -s $data/PG_VERSION ]]; then
    mkdir -p "$data"
    runuser -u postgres -- test -x "$STATE/pg" || die "user postgres cannot reach $STATE/pg: make its parent directories searchable (chmod o+x) or set A2A_PROD_DIR elsewhere"
    local pw
    pw=$(mktemp)
    cp "$STATE/secrets/pg-password" "$pw"
    chown postgres "$pw" "$data" "$STATE/pg" "$STATE/pg/run"
    chmod 700 "$data"
    runuser -u postgres -- "$bin/initdb" -D "$data" -U temporal --pwfile="$pw" --auth=scram-sha-256 -E UTF8 >/dev/null
    rm -f "$pw"
    cat >>"$data/postgresql.conf" <<EOF
# a2a-deploy production cluster: loopback only, its own port and socket directory.
listen_addresses = '127.0.0.1'
port = $PG_PORT
unix_socket_directories = '$STATE/pg/run'
max_connections = 100
EOF
    log "PostgreSQL initialised in $data"
  fi
  if ! runuser -u postgres -- "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1; then
    runuser -u postgres -- "$bin/pg_ctl" -D "$data" -l "$STATE/pg/postgresql.log" -w -t 60 start >/dev/null
    log "PostgreSQL on 127.0.0.1:$PG_PORT"
  fi
}

pg_down() {
  local bin data=$STATE/pg/data
  [[ -s $data/PG_VERSION ]] || return 0
  bin=$(pg_bin)
  runuser -u postgres -- "$bin/pg_ctl" -D "$data" status >/dev/null 2>&1 || return 0
  runuser -u postgres -- "$bin/pg_ctl" -D "$data" -m fast -w stop >/dev/null
}

schema_up() {
  local bin
  bin=$(pg_bin)
  export PGPASSWORD
  PGPASSWORD=$(<"$STATE/secrets/pg-password")
  local sql=("$BIN/temporal-sql-tool" --plugin postgres12 --ep 127.0.0.1 -p "$PG_PORT" -u temporal --pw "$PGPASSWORD")
  for pair in temporal:temporal temporal_visibility:visibility; do
    local db=${pair%%:*} schema=${pair##*:}
    if [[ -z $("$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U temporal -d postgres -tAc "select 1 from pg_database where datname = '$db'") ]]; then
      "${sql[@]}" --db "$db" create-database >>"$STATE/schema.log" 2>&1
    fi
    if [[ -z $("$bin/psql" -h 127.0.0.1 -p "$PG_PORT" -U temporal -d "$db" -tAc "select 1 from pg_tables where tablename = 'schema_version'") ]]; then
      "${sql[@]}" --db "$db" setup-schema -v 0.0 >>"$STATE/schema.log" 2>&1
    fi
    # Brings the schema to what this server version needs (a no-op when it already is): the upgrade path.
    "${sql[@]}" --db "$db" update-schema --schema-name "postgresql/v12/$schema" >>"$STATE/schema.log" 2>&1 || die "update-schema failed for $db; see $STATE/schema.log"
  done
  unset PGPASSWORD
}

# The server's settings (deploy/production/temporal-server.yaml reads them), for `env`.
server_env() {
  SERVER_ENV=(A2A_TEMPORAL_PG_PASSWORD="$(<"$STATE/secrets/pg-password")" A2A_TEMPORAL_PG_PORT="$PG_PORT"
    A2A_TEMPORAL_PORT_BASE="$PORT_BASE" A2A_TEMPORAL_BIND_IP="$BIND_IP" A2A_TEMPORAL_FRONTEND_IP="$(frontend_ip)"
    A2A_TEMPORAL_CERTS="$CERTS" A2A_TEMPORAL_DYNAMIC_CONFIG="$ROOT/deploy/production/dynamicconfig.yaml")
}

server_up() {
  mkdir -p "$STATE/temporal"
  if ! alive "$STATE/temporal/server.pid"; then
    server_env
    # exec'd by env and setsid in place, so $! is the server's own pid.
    env "${SERVER_ENV[@]}" setsid "$BIN/temporal-server" --config-file "$ROOT/deploy/production/temporal-server.yaml" --allow-no-auth start \
      >>"$STATE/temporal/server.log" 2>&1 </dev/null &
    echo $! >"$STATE/temporal/server.pid"
    log "Temporal server (pid $!) starting"
  fi
  local deadline=$((SECONDS + 120))
  until temporal_cli operator cluster health >/dev/null 2>&1; do
    alive "$STATE/temporal/server.pid" || die "Temporal server exited; last lines of $STATE/temporal/server.log:
$(tail -20 "$STATE/temporal/server.log")"
    ((SECONDS < deadline)) || die "Temporal frontend not healthy after 120 s; see $STATE/temporal/server.log"
    sleep 1
  done
}

namespace_up() {
  if ! temporal_cli operator namespace describe --namespace "$NAMESPACE" >/dev/null 2>&1; then
    temporal_cli operator namespace create --namespace "$NAMESPACE" --retention "$RETENTION" >/dev/null
    log "namespace $NAMESPACE created (retention $RETENTION)"
  fi
  local have
  # Namespace creation reaches every frontend within seconds; wait until it answers.
  for _ in $(seq 1 60); do
    have=$(temporal_cli operator search-attribute list --namespace "$NAMESPACE" -o json 2>/dev/null) && break
    sleep 1
  done
  for sa in "${SEARCH_ATTRIBUTES[@]}"; do
    grep -q "\"${sa%%:*}\"" <<<"$have" ||
      temporal_cli operator search-attribute create --namespace "$NAMESPACE" --name "${sa%%:*}" --type "${sa##*:}" >/dev/null
  done
}

ui_up() {
  mkdir -p "$STATE/ui/config"
  cp "$ROOT/deploy/production/ui-server.yaml" "$STATE/ui/config/production.yaml"
  if ! alive "$STATE/ui/ui.pid"; then
    env A2A_UI_TEMPORAL_ADDRESS="$(frontend_ip):$PORT_BASE" A2A_UI_PORT="$UI_PORT" A2A_UI_CERTS="$CERTS" A2A_UI_NAMESPACE="$NAMESPACE" \
      setsid "$BIN/temporal-ui-server" --root "$STATE/ui" --config config --env production start >>"$STATE/ui/ui.log" 2>&1 </dev/null &
    echo $! >"$STATE/ui/ui.pid"
  fi
  for _ in $(seq 1 60); do
    curl -fsS -o /dev/null "http://127.0.0.1:$UI_PORT/" 2>/dev/null && return
    alive "$STATE/ui/ui.pid" || die "UI server exited: $(tail -5 "$STATE/ui/ui.log")"
    sleep 0.5
  done
  die "UI server not answering on 127.0.0.1:$UI_PORT"
}

stop_pid() { # PIDFILE NAME
  alive "$1" || { rm -f "$1"; return 0; }
  local pid
  pid=$(<"$1")
  kill -TERM "$pid"
  for _ in $(seq 1 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
  rm -f "$1"
  log "$2 stopped"
}

client_bundle() { # NAME — what a host needs to join: its certificate, the CA, a profile
  local name=$1 dir=$STATE/clients/$1
  bash "$ROOT/scripts/production/certs.sh" "$CERTS" client "$name" >&2
  mkdir -p "$dir"
  chmod 700 "$dir"
  cp "$CERTS/ca.pem" "$CERTS/$name.pem" "$CERTS/$name.key" "$dir/"
  write_profile "$dir/temporal.toml" "$name" "${A2A_PROD_CLIENT_DIR:-$dir}"
  echo "$dir"
}

cmd=${1:-}
shift || true
case $cmd in
  up)
    if [[ ${1:-} == --frontend-ip ]]; then
      [[ ${2:-} =~ ^[0-9.]+$ ]] || die "--frontend-ip needs an IPv4 address"
      mkdir -p "$STATE"
      echo "$2" >"$STATE/frontend-ip"
    fi
    mkdir -p "$STATE"
    bash "$ROOT/scripts/production/install-server.sh" >&2
    certs_up
    pg_up
    schema_up
    server_up
    namespace_up
    ui_up
    echo "Temporal (mutual TLS) at $(frontend_ip):$PORT_BASE, namespace $NAMESPACE; Web UI http://127.0.0.1:$UI_PORT"
    echo "connect with: export TEMPORAL_CONFIG_FILE=$STATE/temporal.toml TEMPORAL_UI_URL=http://127.0.0.1:$UI_PORT"
    ;;
  down)
    stop_pid "$STATE/ui/ui.pid" "UI server"
    stop_pid "$STATE/temporal/server.pid" "Temporal server"
    pg_down
    [[ ${1:-} == --purge ]] && rm -rf "$STATE" && log "removed $STATE"
    true
    ;;
  status)
    alive "$STATE/temporal/server.pid" && echo "temporal-server: running (pid $(<"$STATE/temporal/server.pid"))" || echo "temporal-server: stopped"
    alive "$STATE/ui/ui.pid" && echo "ui-server: running (pid $(<"$STATE/ui/ui.pid"))" || echo "ui-server: stopped"
    [[ -s $STATE/pg/data/postmaster.pid ]] && kill -0 "$(head -1 "$STATE/pg/data/postmaster.pid")" 2>/dev/null &&
      echo "postgresql: running (pid $(head -1 "$STATE/pg/data/postmaster.pid"))" || echo "postgresql: stopped"
    ;;
  client)
    [[ $# -eq 1 ]] || die "usage: cluster.sh client NAME"
    client_bundle "$1"
    ;;
  restart-postgres)
    pg_down
    pg_up
    ;;
  *)
    echo "usage: cluster.sh up [--frontend-ip IP] | down [--purge] | status | client NAME | restart-postgres" >&2
    exit 2
    ;;
esac
