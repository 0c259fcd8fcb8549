#!/usr/bin/env bash
# A private sshd on loopback for the remote runner's integration tests (and for trying the
# `remote` target on one machine). Everything it needs lives in DIR: host key, client key,
# authorized_keys, known_hosts, sshd_config, pid file, log. Idempotent: running it again
# reuses the keys and leaves a running sshd alone.
#
#   scripts/setup-sshd.sh DIR [PORT]     set up and start (PORT defaults to 2222)
#   scripts/setup-sshd.sh --stop DIR     stop the sshd started for DIR
#
# It never listens anywhere but 127.0.0.1, and allows key authentication only.
set -euo pipefail

usage() { echo "usage: $0 DIR [PORT] | $0 --stop DIR" >&2; exit 2; }

SSHD=/usr/sbin/sshd

# The pid sshd wrote, if that process is still alive.
running_pid() {
  local pid
  [[ -s "$1/sshd.pid" ]] || return 1
  pid=$(<"$1/sshd.pid")
  [[ "$pid" =~ ^[0-9]+$ ]] && kill -0 "$pid" 2>/dev/null && echo "$pid"
}

if [[ "${1:-}" == "--stop" ]]; then
  [[ $# -eq 2 ]] || usage
  DIR=$(cd "$2" 2>/dev/null && pwd) || { echo "nothing to stop: $2 does not exist"; exit 0; }
  if pid=$(running_pid "$DIR"); then
    kill -TERM "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
    kill -0 "$pid" 2>/dev/null && kill -KILL "$pid"
    echo "sshd $pid stopped"
  else
    echo "sshd for $DIR is not running"
  fi
  rm -f "$DIR/sshd.pid"
  exit 0
fi

[[ $# -ge 1 && $# -le 2 ]] || usage
mkdir -p "$1"
DIR=$(cd "$1" && pwd) # sshd wants absolute paths
PORT=${2:-2222}
[[ "$PORT" =~ ^[0-9]+$ ]] || usage

if [[ ! -x "$SSHD" ]]; then
  echo "installing openssh-server ..." >&2
  export DEBIAN_FRONTEND=noninteractive
  apt-get update -qq >/dev/null
  # --no-install-recommends: no need for ncurses-term, xauth and the like on a test box
  apt-get install -y -qq --no-install-recommends openssh-server openssh-client >/dev/null
  # The package starts (or enables) the system sshd on port 22 in some environments; ours is separate.
fi

# Keys are made once and kept: a new host key on every run would make known_hosts stale.
[[ -f "$DIR/ssh_host_ed25519_key" ]] || ssh-keygen -q -t ed25519 -N '' -C "a2a-deploy-test-host" -f "$DIR/ssh_host_ed25519_key"
[[ -f "$DIR/client_ed25519" ]] || ssh-keygen -q -t ed25519 -N '' -C "a2a-deploy-test-client" -f "$DIR/client_ed25519"
chmod 600 "$DIR/ssh_host_ed25519_key" "$DIR/client_ed25519"
cp "$DIR/client_ed25519.pub" "$DIR/authorized_keys"
# Port 22 entries are written bare; any other port as [host]:port, as OpenSSH does.
if [[ "$PORT" == 22 ]]; then hostpat=127.0.0.1; else hostpat="[127.0.0.1]:$PORT"; fi
echo "$hostpat $(cut -d' ' -f1,2 "$DIR/ssh_host_ed25519_key.pub")" >"$DIR/known_hosts"

cat >"$DIR/sshd_config.new" <<EOF
# Written by scripts/setup-sshd.sh: a test sshd on loopback, keys only.
ListenAddress 127.0.0.1:$PORT
HostKey $DIR/ssh_host_ed25519_key
PidFile $DIR/sshd.pid
AuthorizedKeysFile $DIR/authorized_keys
PubkeyAuthentication yes
PasswordAuthentication no
KbdInteractiveAuthentication no
PermitEmptyPasswords no
# The tests run as root; a key is still required.
PermitRootLogin prohibit-password
# DIR lives in /tmp, whose permissions StrictModes would reject.
StrictModes no
UsePAM no
X11Forwarding no
AllowTcpForwarding no
PrintMotd no
LogLevel VERBOSE
EOF

# A changed config (another port) means the running sshd is the wrong one: restart it.
if pid=$(running_pid "$DIR"); then
  if cmp -s "$DIR/sshd_config.new" "$DIR/sshd_config"; then
    rm -f "$DIR/sshd_config.new"
    started="already running (pid $pid)"
  else
    kill -TERM "$pid"
    for _ in $(seq 1 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  fi
fi
if [[ -f "$DIR/sshd_config.new" ]]; then
  mv -f "$DIR/sshd_config.new" "$DIR/sshd_config"
  mkdir -p /run/sshd # privilege separation directory, normally made by the service unit
  chmod 755 /run/sshd
  "$SSHD" -t -f "$DIR/sshd_config" # a config error is reported here, clearly, not as a silent exit
  "$SSHD" -f "$DIR/sshd_config" -E "$DIR/sshd.log"
  # sshd daemonizes once its socket is bound, but wait for the port anyway.
  for i in $(seq 1 100); do
    if (exec 3<>"/dev/tcp/127.0.0.1/$PORT") 2>/dev/null; then break; fi
    [[ $i -eq 100 ]] && { echo "sshd did not open 127.0.0.1:$PORT; see $DIR/sshd.log" >&2; tail -n 20 "$DIR/sshd.log" >&2 || true; exit 1; }
    sleep 0.1
  done
  started="started (pid $(running_pid "$DIR"))"
fi

echo "sshd:        $started on 127.0.0.1:$PORT"
echo "config:      $DIR/sshd_config"
echo "client key:  $DIR/client_ed25519"
echo "known_hosts: $DIR/known_hosts"
echo "host key:    $(ssh-keygen -lf "$DIR/ssh_host_ed25519_key.pub" | cut -d' ' -f2)"
