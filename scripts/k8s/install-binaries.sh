#!/usr/bin/env bash
# Builds the test cluster's Kubernetes binaries from the Go module proxy (idempotent):
#   kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl
#     k8s.io/kubernetes v1.35.4, built in deploy/kubernetes/build (its go.mod replaces the
#     staging modules with their published versions; go.sum pins everything)
#   coredns  github.com/coredns/coredns v1.15.0 (Service DNS names)
# Binaries land in a cache outside the repository, keyed by version ($A2A_DEPLOY_CACHE,
# default ~/.cache/a2a-deploy), as scripts/production/install-server.sh does, so another
# clone reuses them. A second run builds nothing. Cold: about 10 minutes on 2 cores.
# Prints the directory holding the binaries on stdout (progress goes to stderr).
set -euo pipefail
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
K8S_VERSION=v1.35.4
COREDNS_VERSION=v1.15.0
CACHE=${A2A_DEPLOY_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/a2a-deploy}
K8S_DIR=$CACHE/kubernetes-$K8S_VERSION/bin
DNS_DIR=$CACHE/coredns-$COREDNS_VERSION/bin
COMMANDS=(kube-apiserver kube-controller-manager kube-scheduler kubelet kube-proxy kubectl)

go_cmd() {
  if ! command -v go >/dev/null; then
    [[ -x /usr/local/go/bin/go ]] && PATH=$PATH:/usr/local/go/bin
  fi
  if ! command -v go >/dev/null; then
    apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq golang-go >/dev/null
  fi
  # Builds are CPU heavy: stay polite to whatever else runs on the machine. Static binaries
  # (no cgo), as the upstream release builds them.
  CGO_ENABLED=0 GOTOOLCHAIN=auto GOFLAGS=-mod=mod nice -n 10 go "$@"
}

missing=()
for c in "${COMMANDS[@]}"; do [[ -x $K8S_DIR/$c ]] || missing+=("$c"); done
if ((${#missing[@]})); then
  echo "building Kubernetes $K8S_VERSION (${missing[*]}) into $K8S_DIR (about 10 minutes the first time)" >&2
  mkdir -p "$K8S_DIR.tmp"
  # The version the binaries report (kubectl version, the node's kubeletVersion); without it
  # they say v0.0.0-master.
  v=k8s.io/component-base/version
  cv=k8s.io/client-go/pkg/version
  minor=${K8S_VERSION#v1.}
  minor=${minor%%.*}
  ldflags="-s -w -X $v.gitVersion=$K8S_VERSION -X $v.gitMajor=1 -X $v.gitMinor=$minor -X $v.gitTreeState=clean"
  ldflags+=" -X $cv.gitVersion=$K8S_VERSION -X $cv.gitMajor=1 -X $cv.gitMinor=$minor"
  pkgs=()
  for c in "${missing[@]}"; do pkgs+=("k8s.io/kubernetes/cmd/$c"); done
  (cd "$ROOT/deploy/kubernetes/build" && go_cmd build -trimpath -ldflags "$ldflags" -o "$K8S_DIR.tmp/" "${pkgs[@]}")
  mkdir -p "$K8S_DIR"
  for c in "${missing[@]}"; do mv "$K8S_DIR.tmp/$c" "$K8S_DIR/$c"; done
  rmdir "$K8S_DIR.tmp"
fi

if [[ ! -x $DNS_DIR/coredns ]]; then
  echo "building CoreDNS $COREDNS_VERSION into $DNS_DIR (a few minutes the first time)" >&2
  GOBIN=$DNS_DIR go_cmd install "github.com/coredns/coredns@$COREDNS_VERSION"
fi
echo "$K8S_DIR:$DNS_DIR"
