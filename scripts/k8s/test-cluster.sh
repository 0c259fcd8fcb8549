#!/usr/bin/env bash
# What the kubernetes integration test needs, idempotently: a Docker engine (to build the
# agents' image), the image, the test cluster up, and the image loaded into its node.
# Prints the admin kubeconfig's path on stdout (progress on stderr).
#
#   scripts/k8s/test-cluster.sh [IMAGE]        (default a2a-deploy/agent:test)
set -euo pipefail
HERE=$(cd "$(dirname "$0")" && pwd)
IMAGE=${1:-a2a-deploy/agent:test}
"$HERE/../install-docker.sh" >&2
"$HERE/../build-agent-image.sh" "$IMAGE" >&2
"$HERE/cluster.sh" up
"$HERE/cluster.sh" load-image "$IMAGE"
"$HERE/cluster.sh" kubeconfig
