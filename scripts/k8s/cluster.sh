#!/usr/bin/env bash
# A real single-node Kubernetes cluster on this machine, for the kubernetes target's tests:
#
#   scripts/k8s/cluster.sh up | down | status | kubeconfig | load-image IMAGE
#
# up (idempotent; answers once the node is Ready and the `default` ServiceAccount exists):
#   etcd (Debian's) on 127.0.0.1, kube-apiserver / controller-manager / scheduler / kubelet /
#   kube-proxy (iptables mode) built by install-binaries.sh, CoreDNS as a host process, and a
#   containerd of our own (its CRI plugin; never dockerd's) with runc and Debian's CNI plugins.
# Addresses (10.x: docker's pools cover 172.16-31 and 192.168):
#   node       10.200.0.1/32 on the empty bridge a2ak8s-node (the CNI bridge plugin refuses a
#              bridge that carries another address, and this kernel has no dummy driver)
#   pods       10.201.0.0/24 on the CNI bridge a2ak8s-cni0
#   services   10.202.0.0/24; DNS at the node address (CoreDNS, cluster.local)
# Every packet stays on the machine: the Service and pod ranges are routed to our bridge before
# anything starts (a ClusterIP kube-proxy has not programmed yet would otherwise follow the
# default route out), CoreDNS forwards nowhere, kubelet reads a resolv.conf of our own.
# State (certs, data, logs, pids) lives in $A2A_K8S_STATE (default /tmp/a2a-deploy-k8s).
# down stops every process, removes the bridges, netns, mounts and iptables rules it made.
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
ROOT=$(cd "$HERE/../.." && pwd)
STATE=${A2A_K8S_STATE:-/tmp/a2a-deploy-k8s}
RUN=/run/a2a-deploy-k8s
NODE_NAME=a2a-node
NODE_IP=10.200.0.1
POD_CIDR=10.201.0.0/24
POD_GW=10.201.0.1
SERVICE_CIDR=10.202.0.0/24
SERVICE_IP=10.202.0.1 # used by certs.sh
export SERVICE_IP
API_PORT=16443
ETCD_PORT=12379
NODE_BR=a2ak8s-node
CNI_BR=a2ak8s-cni0
PAUSE_IMAGE=a2a-deploy.local/pause:1
CTR_SOCK=$RUN/containerd.sock
# shellcheck disable=SC1091 # certs.sh, beside this script
source "$HERE/certs.sh"

log() { echo "cluster: $*" >&2; }
die() {
  echo "cluster: $*" >&2
  exit 1
}
bins() {
  local dirs
  dirs=$("$HERE/install-binaries.sh")
  K8S_BIN=${dirs%%:*}
  DNS_BIN=${dirs##*:}
}
kubectl_() { "$K8S_BIN/kubectl" --kubeconfig "$STATE/admin.kubeconfig" "$@"; }
ctr_() { ctr --address "$CTR_SOCK" -n k8s.io "$@"; }
pid_alive() { [[ -s $STATE/pids/$1 ]] && kill -0 "$(cat "$STATE/pids/$1")" 2>/dev/null; }

# Starts a component unless it runs; its pid goes to pids/NAME, its output to logs/NAME.log.
daemon() {
  local name=$1
  shift
  pid_alive "$name" && return 0
  setsid "$@" >>"$STATE/logs/$name.log" 2>&1 </dev/null &
  echo $! >"$STATE/pids/$name"
}

# Writes stdin to FILE only when it differs: kube-proxy exits when its config file changes, so a
# second `up` must leave the files of running components as they are.
write_file() {
  local f=$1
  cat >"$f.new"
  if cmp -s "$f.new" "$f"; then rm -f "$f.new"; else mv "$f.new" "$f"; fi
}

wait_for() { # what seconds command...
  local what=$1 secs=$2
  shift 2
  local end=$((SECONDS + secs))
  until "$@" >/dev/null 2>&1; do
    ((SECONDS < end)) || die "$what not ready after ${secs}s (logs in $STATE/logs)"
    sleep 0.2
  done
}

network_up() {
  # Forwarding between the pod bridge and the node (ClusterIP DNAT); set only if it was off,
  # and noted so that down puts it back.
  if [[ $(sysctl -n net.ipv4.ip_forward) != 1 ]]; then
    sysctl -qw net.ipv4.ip_forward=1
    touch "$STATE/ip_forward.set"
  fi
  ip link show "$NODE_BR" >/dev/null 2>&1 || ip link add "$NODE_BR" type bridge
  ip addr show dev "$NODE_BR" | grep -q "$NODE_IP/" || ip addr add "$NODE_IP/32" dev "$NODE_BR"
  ip link set "$NODE_BR" up
  # The pod bridge exists (empty) from the start so that the pod range can be routed to it
  # before the first pod; the bridge plugin adds the gateway address itself.
  ip link show "$CNI_BR" >/dev/null 2>&1 || ip link add "$CNI_BR" type bridge
  ip link set "$CNI_BR" up
  ip route replace "$SERVICE_CIDR" dev "$NODE_BR" src "$NODE_IP"
  ip route show "$POD_CIDR" | grep -q . || ip route add "$POD_CIDR" dev "$CNI_BR" src "$NODE_IP" 2>/dev/null || true
  mkdir -p "$STATE/cni/net.d"
  # firewall: dockerd sets FORWARD to DROP; the plugin admits the pods' traffic.
  write_file "$STATE/cni/net.d/10-a2a.conflist" <<CNI
{"cniVersion": "1.0.0", "name": "a2a-k8s", "plugins": [
  {"type": "bridge", "bridge": "$CNI_BR", "isGateway": true, "ipMasq": false, "hairpinMode": true,
   "ipam": {"type": "host-local", "ranges": [[{"subnet": "$POD_CIDR", "gateway": "$POD_GW"}]],
            "routes": [{"dst": "0.0.0.0/0"}], "dataDir": "$STATE/cni/ipam"}},
  {"type": "firewall", "backend": "iptables"},
  {"type": "portmap", "capabilities": {"portMappings": true}},
  {"type": "loopback"}
]}
CNI
}

pause_image() {
  ctr_ images ls -q 2>/dev/null | grep -qx "$PAUSE_IMAGE" && return 0
  local d=$STATE/pause-build
  rm -rf "$d" && mkdir -p "$d/rootfs"
  CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod "${GO:-go}" -C "$ROOT/deploy/kubernetes/pause" build -trimpath -ldflags '-s -w' -o "$d/rootfs/pause" .
  tar -C "$d/rootfs" --owner=0 --group=0 --mtime=@0 -cf "$d/layer.tar" pause
  local layer cfg
  layer=$(sha256sum "$d/layer.tar" | cut -d' ' -f1)
  mkdir -p "$d/img/$layer" && mv "$d/layer.tar" "$d/img/$layer/layer.tar"
  printf '{"architecture":"amd64","os":"linux","config":{"Entrypoint":["/pause"]},"rootfs":{"type":"layers","diff_ids":["sha256:%s"]}}' "$layer" >"$d/cfg.json"
  cfg=$(sha256sum "$d/cfg.json" | cut -d' ' -f1)
  mv "$d/cfg.json" "$d/img/$cfg.json"
  printf '[{"Config":"%s.json","RepoTags":["%s"],"Layers":["%s/layer.tar"]}]' "$cfg" "$PAUSE_IMAGE" "$layer" >"$d/img/manifest.json"
  tar -C "$d/img" -cf "$d/pause.tar" .
  ctr_ images import --no-unpack=false "$d/pause.tar" >/dev/null
  rm -rf "$d"
}

containerd_up() {
  mkdir -p "$RUN" "$STATE/containerd"
  write_file "$STATE/containerd/config.toml" <<TOML
version = 2
root = "$STATE/containerd/root"
state = "$RUN/containerd-state"
[grpc]
  address = "$CTR_SOCK"
[ttrpc]
  address = "$RUN/containerd.sock.ttrpc"
[debug]
  address = "$RUN/containerd-debug.sock"
[metrics]
  address = ""
[plugins."io.containerd.grpc.v1.cri"]
  sandbox_image = "$PAUSE_IMAGE"
  # runc cannot set the pause container's oom_score_adj here (no CAP_SYS_RESOURCE)
  restrict_oom_score_adj = true
  [plugins."io.containerd.grpc.v1.cri".cni]
    bin_dir = "/usr/lib/cni"
    conf_dir = "$STATE/cni/net.d"
  [plugins."io.containerd.grpc.v1.cri".containerd]
    snapshotter = "overlayfs"
    default_runtime_name = "runc"
    [plugins."io.containerd.grpc.v1.cri".containerd.runtimes.runc]
      runtime_type = "io.containerd.runc.v2"
TOML
  daemon containerd containerd --config "$STATE/containerd/config.toml"
  wait_for containerd 30 ctr_ version
  pause_image
}

etcd_up() {
  daemon etcd etcd --name a2a --data-dir "$STATE/etcd" \
    --listen-client-urls "http://127.0.0.1:$ETCD_PORT" --advertise-client-urls "http://127.0.0.1:$ETCD_PORT" \
    --listen-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" --initial-advertise-peer-urls "http://127.0.0.1:$((ETCD_PORT + 1))" \
    --initial-cluster "a2a=http://127.0.0.1:$((ETCD_PORT + 1))" --listen-metrics-urls "" --quota-backend-bytes 2147483648
  wait_for etcd 30 curl -sf "http://127.0.0.1:$ETCD_PORT/health"
}

control_plane_up() {
  local p=$STATE/pki
  daemon kube-apiserver "$K8S_BIN/kube-apiserver" --bind-address "$NODE_IP" --advertise-address "$NODE_IP" --secure-port "$API_PORT" \
    --etcd-servers "http://127.0.0.1:$ETCD_PORT" --service-cluster-ip-range "$SERVICE_CIDR" \
    --client-ca-file "$p/ca.crt" --tls-cert-file "$p/apiserver.crt" --tls-private-key-file "$p/apiserver.key" \
    --kubelet-client-certificate "$p/apiserver-kubelet-client.crt" --kubelet-client-key "$p/apiserver-kubelet-client.key" \
    --kubelet-certificate-authority "$p/ca.crt" --kubelet-preferred-address-types InternalIP \
    --service-account-key-file "$p/sa.pub" --service-account-signing-key-file "$p/sa.key" \
    --service-account-issuer https://kubernetes.default.svc.cluster.local \
    --authorization-mode Node,RBAC --allow-privileged=false --profiling=false \
    --service-node-port-range 30000-32767
  wait_for kube-apiserver 90 kubectl_ get --raw /readyz
  daemon kube-controller-manager "$K8S_BIN/kube-controller-manager" --kubeconfig "$STATE/controller-manager.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 0 --service-account-private-key-file "$p/sa.key" --root-ca-file "$p/ca.crt" \
    --cluster-signing-cert-file "$p/ca.crt" --cluster-signing-key-file "$p/ca.key" --use-service-account-credentials \
    --controllers '*,-nodeipam,-cloud-node-lifecycle' --leader-elect=false --profiling=false
  daemon kube-scheduler "$K8S_BIN/kube-scheduler" --kubeconfig "$STATE/scheduler.kubeconfig" \
    --bind-address 127.0.0.1 --secure-port 0 --leader-elect=false --profiling=false
}

node_up() {
  local p=$STATE/pki
  echo "nameserver $NODE_IP" | write_file "$STATE/resolv.conf"
  write_file "$STATE/kubelet.yaml" <<YAML
apiVersion: kubelet.config.k8s.io/v1beta1
kind: KubeletConfiguration
failCgroupV1: false
address: $NODE_IP
port: 10250
readOnlyPort: 0
healthzBindAddress: 127.0.0.1
healthzPort: 10248
tlsCertFile: $p/kubelet-serving.crt
tlsPrivateKeyFile: $p/kubelet-serving.key
authentication: {anonymous: {enabled: false}, webhook: {enabled: true}, x509: {clientCAFile: $p/ca.crt}}
authorization: {mode: Webhook}
cgroupDriver: cgroupfs
containerRuntimeEndpoint: unix://$CTR_SOCK
clusterDomain: cluster.local
clusterDNS: [$NODE_IP]
resolvConf: $STATE/resolv.conf
podCIDR: $POD_CIDR
failSwapOn: false
serializeImagePulls: false
imageGCHighThresholdPercent: 100
imageGCLowThresholdPercent: 99
evictionHard: {memory.available: 50Mi, nodefs.available: 1%, imagefs.available: 1%, nodefs.inodesFree: 1%}
YAML
  daemon kubelet "$K8S_BIN/kubelet" --config "$STATE/kubelet.yaml" --kubeconfig "$STATE/kubelet.kubeconfig" \
    --hostname-override "$NODE_NAME" --node-ip "$NODE_IP" --root-dir "$STATE/kubelet" --cert-dir "$STATE/kubelet-pki"
  write_file "$STATE/kube-proxy.yaml" <<YAML
apiVersion: kubeproxy.config.k8s.io/v1alpha1
kind: KubeProxyConfiguration
mode: iptables
clientConnection: {kubeconfig: $STATE/kube-proxy.kubeconfig}
hostnameOverride: $NODE_NAME
clusterCIDR: $POD_CIDR
bindAddress: $NODE_IP
healthzBindAddress: 127.0.0.1:10256
metricsBindAddress: 127.0.0.1:10249
nodePortAddresses: [$NODE_IP/32]
conntrack: {maxPerCore: 0, tcpEstablishedTimeout: 0s, tcpCloseWaitTimeout: 0s}
YAML
  daemon kube-proxy "$K8S_BIN/kube-proxy" --config "$STATE/kube-proxy.yaml"
  write_file "$STATE/Corefile" <<DNS
.:53 {
  bind $NODE_IP
  errors
  kubernetes cluster.local in-addr.arpa ip6.arpa {
    kubeconfig $STATE/admin.kubeconfig
    pods insecure
    fallthrough in-addr.arpa ip6.arpa
  }
  cache 5
}
DNS
  daemon coredns "$DNS_BIN/coredns" -conf "$STATE/Corefile"
}

# Debian's packages the cluster runs on, installed when missing (a fresh machine has none of them).
debian_parts() {
  local tool="$HERE/../install-debian-tool.sh"
  "$tool" etcd etcd-server >&2
  "$tool" containerd containerd >&2
  "$tool" runc runc >&2
  "$tool" conntrack conntrack >&2
  "$tool" iptables iptables >&2
  # The CNI plugins are not commands on PATH: install the package when its bridge plugin is missing.
  if [[ ! -x /usr/lib/cni/bridge ]]; then
    DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends containernetworking-plugins >/dev/null ||
      { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends containernetworking-plugins >/dev/null; }
    log "installed Debian's containernetworking-plugins"
  fi
}

up() {
  debian_parts
  bins
  mkdir -p "$STATE/pids" "$STATE/logs"
  make_pki
  network_up
  etcd_up
  containerd_up
  control_plane_up
  node_up
  wait_for "node $NODE_NAME" 120 sh -c "'$K8S_BIN/kubectl' --kubeconfig '$STATE/admin.kubeconfig' get node $NODE_NAME -o jsonpath='{.status.conditions[?(@.type==\"Ready\")].status}' | grep -qx True"
  # ClusterIPs work once kube-proxy has synced its rules.
  wait_for kube-proxy 60 curl -sf http://127.0.0.1:10256/healthz
  # Pods are refused until the namespace's ServiceAccount exists.
  wait_for "default ServiceAccount" 60 kubectl_ -n default get serviceaccount default
  log "up: node $NODE_NAME Ready; KUBECONFIG=$STATE/admin.kubeconfig"
}

stop_pid() { # name: SIGTERM, then SIGKILL after 10 s
  local name=$1 pid
  [[ -s $STATE/pids/$name ]] || return 0
  pid=$(cat "$STATE/pids/$name")
  if kill -0 "$pid" 2>/dev/null; then
    kill "$pid" 2>/dev/null || true
    for _ in $(seq 50); do kill -0 "$pid" 2>/dev/null || break; sleep 0.2; done
    kill -9 "$pid" 2>/dev/null || true
  fi
  rm -f "$STATE/pids/$name"
}

# Rules and chains of kube-proxy (KUBE-*) and of the CNI plugins (CNI-*): only those names.
iptables_clean() {
  local t chain n
  for t in filter nat mangle; do
    # Jumps from the built-in chains to ours, by rule number (last first, so numbers hold).
    for chain in $(iptables -t "$t" -S 2>/dev/null | awk '$1 == "-P" {print $2}'); do
      for n in $(iptables -t "$t" -L "$chain" -n --line-numbers 2>/dev/null | awk '$2 ~ /^(KUBE|CNI)-/ {print $1}' | sort -rn); do
        iptables -t "$t" -D "$chain" "$n" 2>/dev/null || true
      done
    done
    for chain in $(iptables -t "$t" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^(KUBE|CNI)-/ {print $2}'); do
      iptables -t "$t" -F "$chain" 2>/dev/null || true
    done
    for chain in $(iptables -t "$t" -S 2>/dev/null | awk '$1 == "-N" && $2 ~ /^(KUBE|CNI)-/ {print $2}'); do
      iptables -t "$t" -X "$chain" 2>/dev/null || true
    done
  done
}

down() {
  [[ -d $STATE ]] || { log "down: nothing to stop"; return 0; }
  bins 2>/dev/null || true
  # No new pods, then every pod stopped through kubelet (that is what releases their network
  # namespaces, addresses and firewall rules through CNI).
  stop_pid kube-controller-manager
  stop_pid kube-scheduler
  if pid_alive kube-apiserver && pid_alive kubelet; then
    kubectl_ delete pods --all -A --grace-period=1 --timeout=60s >/dev/null 2>&1 || true
  fi
  for c in kubelet kube-proxy coredns kube-apiserver etcd; do stop_pid "$c"; done
  if pid_alive containerd; then
    for t in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks kill -s SIGKILL "$t" 2>/dev/null || true; done
    sleep 0.5
    for t in $(ctr_ tasks ls -q 2>/dev/null); do ctr_ tasks delete -f "$t" >/dev/null 2>&1 || true; done
  fi
  stop_pid containerd
  # Shims of our containerd (named by its socket), should one outlive the tasks.
  for pid in $(pgrep -f -- "-address $CTR_SOCK" || true); do kill -9 "$pid" 2>/dev/null || true; done
  if [[ -x $K8S_BIN/kube-proxy ]]; then "$K8S_BIN/kube-proxy" --cleanup --config "$STATE/kube-proxy.yaml" >/dev/null 2>&1 || true; fi
  iptables_clean
  # Network namespaces of pods kubelet did not get to stop: those holding a pod address.
  for ns in $(ip netns list 2>/dev/null | awk '$1 ~ /^cni-/ {print $1}'); do
    if ip -n "$ns" -4 addr 2>/dev/null | grep -q "inet ${POD_GW%.1}\."; then ip netns del "$ns"; fi
  done
  # Mounts under our state (containers' root filesystems, pods' volumes), deepest first.
  awk -v s="$STATE/" -v r="$RUN/" 'index($2, s) == 1 || index($2, r) == 1 {print $2}' /proc/mounts | sort -r | while read -r m; do
    umount -l "$m" 2>/dev/null || true
  done || true
  ip link del "$CNI_BR" 2>/dev/null || true
  ip link del "$NODE_BR" 2>/dev/null || true
  if [[ -e $STATE/ip_forward.set ]]; then
    sysctl -qw net.ipv4.ip_forward=0
    rm -f "$STATE/ip_forward.set"
  fi
  rm -rf "$RUN"
  # The PKI and etcd stay (a next `up` is the same cluster, without its pods); A2A_K8S_WIPE=1 removes all.
  [[ ${A2A_K8S_WIPE:-} == 1 ]] && rm -rf "$STATE"
  log "down: stopped"
}

status() {
  local c ok=0
  for c in etcd containerd kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy coredns; do
    if pid_alive "$c"; then echo "$c running (pid $(cat "$STATE/pids/$c"))"; else echo "$c stopped"; ok=1; fi
  done
  if ((ok == 0)); then
    bins
    kubectl_ get nodes -o wide
  fi
  return $ok
}

load_image() {
  local image=${1:?usage: cluster.sh load-image IMAGE}
  pid_alive containerd || die "the cluster is not up (scripts/k8s/cluster.sh up)"
  docker image inspect "$image" >/dev/null 2>&1 || die "no local Docker image $image"
  docker save "$image" | ctr_ images import --no-unpack=false - >/dev/null
  log "loaded $image into the node"
}

case ${1:-} in
  up) up ;;
  down) down ;;
  status) status ;;
  kubeconfig)
    [[ -s $STATE/admin.kubeconfig ]] || die "no cluster yet (scripts/k8s/cluster.sh up)"
    echo "$STATE/admin.kubeconfig"
    ;;
  load-image) load_image "${2:-}" ;;
  *) die "usage: cluster.sh up|down|status|kubeconfig|load-image IMAGE" ;;
esac
