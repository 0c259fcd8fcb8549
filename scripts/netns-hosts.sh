#!/usr/bin/env bash
# Simulated remote hosts for tests: network namespaces on this machine, each a "host" with its
# own address on a private bridge. Traffic stays on this machine.
#   scripts/netns-hosts.sh up   NAME...   creates a2a-NAME with 10.203.0.(11+i) on bridge a2a-br0 (10.203.0.1)
#   scripts/netns-hosts.sh down NAME...   removes them (and the bridge when none is left)
set -euo pipefail
cmd=${1:?usage: netns-hosts.sh up|down NAME...}
shift
BR=a2a-br0
command -v ip >/dev/null || { apt-get update -qq && apt-get install -y -qq iproute2 >/dev/null; }

if [[ $cmd == up ]]; then
  if ! ip link show "$BR" >/dev/null 2>&1; then
    ip link add "$BR" type bridge
    ip addr add 10.203.0.1/24 dev "$BR"
    ip link set "$BR" up
  fi
  # Docker sets the FORWARD policy to DROP (and bridged traffic goes through it): let the
  # simulated hosts talk to each other across the bridge.
  if command -v iptables >/dev/null; then
    iptables -C FORWARD -i "$BR" -o "$BR" -j ACCEPT 2>/dev/null || iptables -I FORWARD -i "$BR" -o "$BR" -j ACCEPT
  fi
  i=0
  for name in "$@"; do
    ns="a2a-$name"
    addr="10.203.0.$((11 + i))"
    i=$((i + 1))
    ip netns list | grep -qw "$ns" && { echo "$name $addr"; continue; }
    ip netns add "$ns"
    ip link add "v-$name" type veth peer name eth0 netns "$ns"
    ip link set "v-$name" master "$BR" up
    ip -n "$ns" addr add "$addr/24" dev eth0
    ip -n "$ns" link set eth0 up
    ip -n "$ns" link set lo up
    ip -n "$ns" route add default via 10.203.0.1
    echo "$name $addr"
  done
elif [[ $cmd == down ]]; then
  for name in "$@"; do
    ip netns del "a2a-$name" 2>/dev/null || true
    ip link del "v-$name" 2>/dev/null || true
  done
  if ! ip netns list | grep -q '^a2a-'; then
    ip link del "$BR" 2>/dev/null || true
    if command -v iptables >/dev/null; then iptables -D FORWARD -i "$BR" -o "$BR" -j ACCEPT 2>/dev/null || true; fi
  fi
else
  echo "usage: netns-hosts.sh up|down NAME..." >&2
  exit 2
fi
