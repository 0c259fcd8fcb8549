#!/usr/bin/env bash
# Certificates for a mutual-TLS Temporal frontend, made with openssl (idempotent: existing
# files are kept, so running it again changes nothing).
#   certs.sh DIR ca                          the cluster's CA (DIR/ca.pem, DIR/ca.key: keep the key offline)
#   certs.sh DIR server NAME [IP|DNS ...]    a server certificate for NAME with more subject alt names
#   certs.sh DIR client NAME                 a client certificate (CN=NAME) for a worker, a host or the CLI
# Files: DIR/NAME.pem (certificate), DIR/NAME.key (private key, mode 0600). A client joins
# with ca.pem, NAME.pem and NAME.key; it never needs ca.key.
set -euo pipefail
usage() { echo "usage: $0 DIR ca | DIR server NAME [SAN...] | DIR client NAME" >&2; exit 2; }
[[ $# -ge 2 ]] || usage
DIR=$1 KIND=$2
NAME=${3:-}
DAYS=${A2A_CERT_DAYS:-825}
mkdir -p "$DIR"
chmod 700 "$DIR"
command -v openssl >/dev/null || { apt-get update -qq && apt-get install -y -qq openssl >/dev/null; }
[[ "$NAME" =~ ^[A-Za-z0-9][A-Za-z0-9._-]*$ || $KIND == ca ]] || { echo "certificate name must be [A-Za-z0-9._-]: '$NAME'" >&2; exit 2; }

ca() {
  [[ -s $DIR/ca.pem && -s $DIR/ca.key ]] && return
  (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$DIR/ca.key")
  openssl req -x509 -new -key "$DIR/ca.key" -sha256 -days "$((DAYS * 2))" -subj "/CN=a2a-deploy Temporal CA $(hostname -s) $(date -u +%Y%m%d%H%M%S)" \
    -addext basicConstraints=critical,CA:TRUE -addext keyUsage=critical,keyCertSign,cRLSign -out "$DIR/ca.pem" 2>/dev/null
  echo "CA: $DIR/ca.pem"
}

# leaf NAME EXT_USAGE SAN — a key and a certificate signed by the CA.
leaf() {
  local name=$1 usage=$2 san=$3
  [[ -s $DIR/$name.pem && -s $DIR/$name.key ]] && return
  [[ -s $DIR/ca.key ]] || { echo "no CA in $DIR: run '$0 $DIR ca' first" >&2; exit 2; }
  local ext
  ext=$(mktemp)
  printf 'basicConstraints=critical,CA:FALSE\nkeyUsage=critical,digitalSignature\nextendedKeyUsage=%s\nsubjectAltName=%s\n' "$usage" "$san" >"$ext"
  (umask 077 && openssl genpkey -algorithm EC -pkeyopt ec_paramgen_curve:P-256 -out "$DIR/$name.key.tmp")
  openssl req -new -key "$DIR/$name.key.tmp" -subj "/CN=$name" 2>/dev/null |
    openssl x509 -req -CA "$DIR/ca.pem" -CAkey "$DIR/ca.key" -CAcreateserial -days "$DAYS" -sha256 -extfile "$ext" -out "$DIR/$name.pem" 2>/dev/null
  rm -f "$ext"
  mv "$DIR/$name.key.tmp" "$DIR/$name.key"
  echo "$KIND certificate: $DIR/$name.pem (key $DIR/$name.key)"
}

case $KIND in
  ca) ca ;;
  server)
    [[ -n $NAME ]] || usage
    san="DNS:$NAME"
    for extra in "${@:4}"; do
      if [[ $extra =~ ^[0-9.]+$ || $extra == *:* ]]; then san+=",IP:$extra"; else san+=",DNS:$extra"; fi
    done
    # Servers also present their certificate as clients (internode traffic, system workers).
    leaf "$NAME" serverAuth,clientAuth "$san"
    ;;
  client)
    [[ -n $NAME ]] || usage
    leaf "$NAME" clientAuth "DNS:$NAME"
    ;;
  *) usage ;;
esac
