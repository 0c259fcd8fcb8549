#!/usr/bin/env bash
# Makes a Docker engine available on this machine, idempotently, and prints one line.
#
#   scripts/install-docker.sh
#
# 1. `docker info` already works (any engine, any DOCKER_HOST): nothing to do.
# 2. No dockerd: install Debian's docker.io (a complete engine: dockerd, containerd, runc,
#    iptables) from the Debian package archive, the only place packages come from here.
# 3. Start dockerd in the background (no systemd on these machines), logging to
#    $A2A_DOCKERD_LOG (default /var/log/a2a-dockerd.log), and wait for `docker info`.
#
# Networking: dockerd is started with its defaults (docker0 bridge, iptables rules) so
# that per-job bridge networks work; agents publish only on 127.0.0.1. If the default
# bridge cannot be set up (a kernel without bridge/netfilter support), dockerd refuses to
# start, and we retry with `--bridge=none --iptables=false`: then only host networking
# works (the container runner's default, `network` unset or `host`).
set -euo pipefail

LOG="${A2A_DOCKERD_LOG:-/var/log/a2a-dockerd.log}"
TIMEOUT="${A2A_DOCKERD_TIMEOUT:-60}"

if docker info >/dev/null 2>&1; then
  echo "docker: engine already running ($(docker version --format '{{.Server.Version}}' 2>/dev/null || echo '?'))"
  exit 0
fi

if [ -n "${DOCKER_HOST:-}" ] && [[ "$DOCKER_HOST" != unix://* ]]; then
  echo "docker: DOCKER_HOST=$DOCKER_HOST does not answer; not starting a local engine for a remote host" >&2
  exit 1
fi

if [ "$(id -u)" != 0 ]; then
  echo "docker: no running engine, and installing/starting one needs root" >&2
  exit 1
fi

if ! command -v dockerd >/dev/null 2>&1; then
  export DEBIAN_FRONTEND=noninteractive
  # Quiet on success (apt and debconf chatter go to the log), the log's tail on failure.
  if ! { apt-get update -qq && apt-get install -y -qq docker.io; } >>"$LOG" 2>&1; then
    echo "docker: installing docker.io failed; see $LOG" >&2
    tail -n 20 "$LOG" >&2 || true
    exit 1
  fi
fi

# Succeeds once `docker info` answers, within the timeout.
wait_ready() {
  local deadline=$((SECONDS + TIMEOUT))
  while [ $SECONDS -lt $deadline ]; do
    if docker info >/dev/null 2>&1; then return 0; fi
    sleep 0.5
  done
  return 1
}

# A dockerd that is still starting (another run of this script, at the same time): wait for it.
if [ -f /var/run/docker.pid ] && kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
  if wait_ready; then
    echo "docker: engine started by another run is ready ($(docker version --format '{{.Server.Version}}' 2>/dev/null))"
    exit 0
  fi
  echo "docker: dockerd (pid $(cat /var/run/docker.pid)) runs but does not answer within ${TIMEOUT}s; see $LOG" >&2
  exit 1
fi

# Start dockerd with the given extra flags; succeed once `docker info` answers.
start_dockerd() {
  # A stale pid file from an engine that died keeps a new one from starting.
  if [ -f /var/run/docker.pid ] && ! kill -0 "$(cat /var/run/docker.pid)" 2>/dev/null; then
    rm -f /var/run/docker.pid
  fi
  echo "--- $(date -Is) starting dockerd $*" >>"$LOG"
  # setsid: its own session, so it outlives this script and the shell that ran it.
  setsid dockerd "$@" >>"$LOG" 2>&1 </dev/null &
  local pid=$!
  local deadline=$((SECONDS + TIMEOUT))
  while [ $SECONDS -lt $deadline ]; do
    if docker info >/dev/null 2>&1; then return 0; fi
    if ! kill -0 "$pid" 2>/dev/null; then return 1; fi # it gave up (see the log)
    sleep 0.5
  done
  kill "$pid" 2>/dev/null || true
  return 1
}

if start_dockerd; then
  mode="bridge networks and host networking"
elif start_dockerd --bridge=none --iptables=false; then
  mode="host networking only (no bridge support: started with --bridge=none --iptables=false)"
else
  echo "docker: dockerd did not become ready within ${TIMEOUT}s; see $LOG" >&2
  tail -n 20 "$LOG" >&2 || true
  exit 1
fi
echo "docker: started dockerd $(docker version --format '{{.Server.Version}}' 2>/dev/null) ($mode), log $LOG"
