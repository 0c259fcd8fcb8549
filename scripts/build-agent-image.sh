#!/usr/bin/env bash
# Builds the example agents' container image without a registry or a base image:
#
#   scripts/build-agent-image.sh [TAG]        (default a2a-deploy/agent:test)
#
# No image registry is reachable here, so there is no `FROM node`: we assemble a root
# filesystem from this machine's own node binary (plus the shared libraries ldd lists),
# a few /etc files, the project's dist/ and the node_modules the agents need at run time,
# and `docker import` it. Layout:
#
#   /usr/local/bin/node            the host's node
#   /app/package.json, /app/dist   this project (so `node /app/dist/agents/weather.js` works)
#   /app/node_modules              only the agents' runtime dependency closure
#
# Idempotent: the image carries a label a2a-deploy.content=<hash of node, dist, lockfile and
# this script>; when TAG already has that label nothing is rebuilt. Prints one line.
set -euo pipefail

TAG="${1:-a2a-deploy/agent:test}"
ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
NODE="$(readlink -f "$(command -v node)")"
cd "$ROOT"

# The agents must be compiled; build only what is missing (tsc of the whole project).
if [ ! -f dist/agents/weather.js ]; then
  npx tsc -p tsconfig.json >&2
fi

# What goes into the image, hashed: any change to it means a new image.
content_hash() {
  {
    sha256sum "$NODE" "$ROOT/package-lock.json" "${BASH_SOURCE[0]}"
    find dist -type f ! -name '*.map' -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
  } | sha256sum | cut -c1-16
}
HASH="$(content_hash)"

current="$(docker image inspect --format '{{ index .Config.Labels "a2a-deploy.content" }}' "$TAG" 2>/dev/null || true)"
if [ "$current" = "$HASH" ]; then
  echo "build-agent-image: $TAG is up to date (content $HASH)"
  exit 0
fi

t0=$SECONDS
previous="$(docker image inspect --format '{{.Id}}' "$TAG" 2>/dev/null || true)"
ROOTFS="$(mktemp -d /tmp/a2a-agent-rootfs.XXXXXX)"
trap 'rm -rf "$ROOTFS"' EXIT

# node and its shared libraries, at the paths the dynamic loader expects.
mkdir -p "$ROOTFS/usr/local/bin" "$ROOTFS/tmp" "$ROOTFS/etc" "$ROOTFS/app"
chmod 1777 "$ROOTFS/tmp"
cp "$NODE" "$ROOTFS/usr/local/bin/node"
for lib in $(ldd "$NODE" | grep -o '/[^ ]*'); do
  mkdir -p "$ROOTFS$(dirname "$lib")"
  cp -L "$lib" "$ROOTFS$lib"
done

# Minimal /etc: users for `id`/os.userInfo, and name lookups through /etc/hosts and DNS
# (Docker mounts its own hosts and resolv.conf; on a job network its DNS resolves peers).
printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/nonexistent:/usr/sbin/nologin\n' >"$ROOTFS/etc/passwd"
printf 'root:x:0:\nnogroup:x:65534:\n' >"$ROOTFS/etc/group"
printf 'hosts: files dns\n' >"$ROOTFS/etc/nsswitch.conf"
printf '127.0.0.1 localhost\n::1 localhost\n' >"$ROOTFS/etc/hosts"

# The project: package.json (commonjs, exports) and dist/.
cp package.json "$ROOTFS/app/"
cp -r dist "$ROOTFS/app/dist"

# node_modules: the dependency closure of the packages dist/agents/*.js require (the SDK and
# express), not the whole tree (Temporal's native bridge, swc and typescript are big and unused).
packages="$(node - "$ROOT" "$ROOTFS/app" <<'EOF'
const fs = require('node:fs');
const path = require('node:path');
const [root, dest] = process.argv.slice(2);
const agents = path.join(root, 'dist', 'agents');
const roots = new Set();
for (const f of fs.readdirSync(agents).filter((f) => f.endsWith('.js'))) {
  for (const m of fs.readFileSync(path.join(agents, f), 'utf8').matchAll(/require\("([^".][^"]*)"\)/g)) {
    if (m[1].startsWith('node:')) continue;
    const parts = m[1].split('/');
    roots.add(m[1].startsWith('@') ? parts.slice(0, 2).join('/') : parts[0]);
  }
}
// Node's lookup: <dir>/node_modules/<name>, walking up from the requiring package.
const find = (name, from) => {
  for (let dir = from; ; dir = path.dirname(dir)) {
    const p = path.join(dir, 'node_modules', name);
    if (fs.existsSync(path.join(p, 'package.json'))) return p;
    if (dir === root || dir === path.dirname(dir)) return undefined;
  }
};
const seen = new Set();
const queue = [...roots].map((name) => ({ name, from: root, required: true }));
while (queue.length) {
  const { name, from, required } = queue.shift();
  const dir = find(name, from);
  if (!dir) {
    if (required) throw new Error(`build-agent-image: ${name} (needed from ${from}) is not installed`);
    continue;
  }
  if (seen.has(dir)) continue;
  seen.add(dir);
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const optionalPeers = pkg.peerDependenciesMeta ?? {};
  for (const d of Object.keys(pkg.dependencies ?? {})) queue.push({ name: d, from: dir, required: true });
  for (const d of Object.keys(pkg.optionalDependencies ?? {})) queue.push({ name: d, from: dir, required: false });
  // Optional peers (the SDK's database and gRPC backends) stay out: the agents do not use them.
  for (const d of Object.keys(pkg.peerDependencies ?? {})) if (!optionalPeers[d]?.optional) queue.push({ name: d, from: dir, required: true });
}
for (const dir of seen) fs.cpSync(dir, path.join(dest, path.relative(root, dir)), { recursive: true, dereference: true });
process.stdout.write(String(seen.size));
EOF
)"

# Import as a single-layer image with the default command and the content label.
tar -C "$ROOTFS" --numeric-owner --owner=0 --group=0 -cf - . |
  docker import \
    --change 'ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin' \
    --change 'WORKDIR /app' \
    --change 'CMD ["node","/app/dist/agents/weather.js"]' \
    --change "LABEL a2a-deploy.content=$HASH" \
    --message "a2a-deploy agent image (content $HASH)" \
    - "$TAG" >/dev/null

# The image this one replaced is untagged now: drop it, unless a container still uses it.
if [ -n "$previous" ] && [ "$previous" != "$(docker image inspect --format '{{.Id}}' "$TAG")" ]; then
  docker image rm "$previous" >/dev/null 2>&1 || true
fi

size="$(docker image inspect --format '{{.Size}}' "$TAG")"
echo "build-agent-image: built $TAG (content $HASH, $((size / 1024 / 1024)) MiB, $packages npm packages) in $((SECONDS - t0))s"
