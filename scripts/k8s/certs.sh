#!/usr/bin/env bash
# The test cluster's PKI, sourced by cluster.sh: its own CA, the API server's serving cert,
# one client cert per component (the CN/O are the identities RBAC and the Node authorizer
# know), the service-account key pair and a kubeconfig per client. Made once per state dir
# (idempotent: existing files are kept, so a second `up` keeps the same cluster identity).
# Needs: STATE, NODE_IP, SERVICE_IP (the `kubernetes` Service's ClusterIP), NODE_NAME, API_PORT.

pki_sign() { # name subject [extfile-lines]
  local name=$1 subj=$2 ext=${3:-}
  [[ -s $STATE/pki/$name.crt ]] && return 0
  openssl genrsa -out "$STATE/pki/$name.key" 2048 2>/dev/null
  openssl req -new -key "$STATE/pki/$name.key" -subj "$subj" -out "$STATE/pki/$name.csr" 2>/dev/null
  # shellcheck disable=SC2086 # $ext is empty or one extension line, split on purpose
  printf '%s\n' "basicConstraints=CA:FALSE" "keyUsage=critical,digitalSignature,keyEncipherment" $ext >"$STATE/pki/$name.ext"
  openssl x509 -req -in "$STATE/pki/$name.csr" -CA "$STATE/pki/ca.crt" -CAkey "$STATE/pki/ca.key" -CAcreateserial \
    -days 3650 -extfile "$STATE/pki/$name.ext" -out "$STATE/pki/$name.crt.tmp" 2>/dev/null
  mv "$STATE/pki/$name.crt.tmp" "$STATE/pki/$name.crt"
}

pki_kubeconfig() { # name user
  local name=$1 user=$2 file=$STATE/$1.kubeconfig
  [[ -s $file ]] && return 0
  cat >"$file.tmp" <<KC
apiVersion: v1
kind: Config
clusters:
- name: a2a-k8s
  cluster:
    server: https://$NODE_IP:$API_PORT
    certificate-authority-data: $(base64 -w0 "$STATE/pki/ca.crt")
users:
- name: $user
  user:
    client-certificate-data: $(base64 -w0 "$STATE/pki/$name.crt")
    client-key-data: $(base64 -w0 "$STATE/pki/$name.key")
contexts:
- name: a2a-k8s
  context: {cluster: a2a-k8s, user: $user, namespace: default}
current-context: a2a-k8s
KC
  chmod 600 "$file.tmp"
  mv "$file.tmp" "$file"
}

make_pki() {
  mkdir -p "$STATE/pki"
  chmod 700 "$STATE/pki"
  if [[ ! -s $STATE/pki/ca.crt ]]; then
    openssl genrsa -out "$STATE/pki/ca.key" 2048 2>/dev/null
    openssl req -x509 -new -key "$STATE/pki/ca.key" -subj "/CN=a2a-deploy test cluster CA" -days 3650 \
      -out "$STATE/pki/ca.crt" 2>/dev/null
  fi
  local sans="subjectAltName=DNS:kubernetes,DNS:kubernetes.default,DNS:kubernetes.default.svc,DNS:kubernetes.default.svc.cluster.local,DNS:localhost,IP:127.0.0.1,IP:$NODE_IP,IP:$SERVICE_IP"
  pki_sign apiserver "/CN=kube-apiserver" "extendedKeyUsage=serverAuth $sans"
  pki_sign admin "/O=system:masters/CN=a2a-admin" "extendedKeyUsage=clientAuth"
  pki_sign apiserver-kubelet-client "/O=system:masters/CN=kube-apiserver-kubelet-client" "extendedKeyUsage=clientAuth"
  pki_sign controller-manager "/CN=system:kube-controller-manager" "extendedKeyUsage=clientAuth"
  pki_sign scheduler "/CN=system:kube-scheduler" "extendedKeyUsage=clientAuth"
  pki_sign kubelet "/O=system:nodes/CN=system:node:$NODE_NAME" "extendedKeyUsage=clientAuth"
  pki_sign kube-proxy "/CN=system:kube-proxy" "extendedKeyUsage=clientAuth"
  pki_sign kubelet-serving "/CN=$NODE_NAME" "extendedKeyUsage=serverAuth subjectAltName=IP:$NODE_IP,DNS:$NODE_NAME"
  if [[ ! -s $STATE/pki/sa.pub ]]; then
    openssl genrsa -out "$STATE/pki/sa.key" 2048 2>/dev/null
    openssl rsa -in "$STATE/pki/sa.key" -pubout -out "$STATE/pki/sa.pub" 2>/dev/null
  fi
  chmod 600 "$STATE"/pki/*.key
  for c in admin controller-manager scheduler kubelet kube-proxy; do pki_kubeconfig "$c" "$c"; done
}
