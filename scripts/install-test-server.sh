#!/usr/bin/env bash
# Installs Temporal's Java test server (io.temporal:temporal-test-server from Maven Central, with
# its runtime dependencies) into <repo>/.tools/temporal-test-server/, and a wrapper script
# .tools/bin/temporal-test-server that runs it. The workflow tests (test/workflow/) give that
# wrapper to @temporalio/testing as an existing executable: left to itself the SDK downloads a
# native test server at run time from a host this machine (and CI) cannot reach.
# Idempotent: once the jars and the wrapper match the pinned version, it only checks that.
set -euo pipefail

TEST_SERVER_VERSION=1.35.0

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
TOOLS="$ROOT/.tools"
DIR="$TOOLS/temporal-test-server"
LIB="$DIR/lib"
STAMP="$DIR/version"
WRAPPER="$TOOLS/bin/temporal-test-server"

if [[ -f "$STAMP" && "$(cat "$STAMP")" == "$TEST_SERVER_VERSION" && -x "$WRAPPER" ]]; then
  echo "install-test-server: temporal-test-server $TEST_SERVER_VERSION already at ${WRAPPER#"$ROOT"/}"
  exit 0
fi

command -v java >/dev/null || { echo "install-test-server: java (17 or newer) is needed: apt-get install openjdk-17-jre-headless" >&2; exit 1; }
command -v mvn >/dev/null || { echo "install-test-server: mvn is needed: apt-get install maven" >&2; exit 1; }

# A throwaway project whose only dependency is the test server: Maven resolves the jar and its
# runtime dependencies from Maven Central and copies them into lib/.
work="$(mktemp -d)"
trap 'rm -rf "$work"' EXIT
cat >"$work/pom.xml" <<EOF
<project xmlns="http://maven.apache.org/POM/4.0.0">
  <modelVersion>4.0.0</modelVersion>
  <groupId>a2a-deploy</groupId>
  <artifactId>test-server-fetch</artifactId>
  <version>0</version>
  <packaging>pom</packaging>
  <dependencies>
    <dependency>
      <groupId>io.temporal</groupId>
      <artifactId>temporal-test-server</artifactId>
      <version>$TEST_SERVER_VERSION</version>
    </dependency>
  </dependencies>
</project>
EOF
rm -rf "$DIR"
mkdir -p "$LIB" "$TOOLS/bin"
mvn -q -B -f "$work/pom.xml" dependency:copy-dependencies -DincludeScope=runtime -DoutputDirectory="$LIB" >&2

# A class-data archive of a short run: the JVM then starts in about a third of the time, which
# matters because the SDK gives the server 5 s to listen (a loaded machine missed that).
port="$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')"
java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:ArchiveClassesAtExit="$DIR/classes.jsa" -cp "$LIB/*" \
  io.temporal.testserver.TestServer "$port" >"$DIR/archive.log" 2>&1 &
server=$!
for _ in $(seq 1 300); do
  (echo >"/dev/tcp/127.0.0.1/$port") 2>/dev/null && break
  sleep 0.1
done
sleep 1
kill "$server"
wait "$server" || true
[[ -s "$DIR/classes.jsa" ]] || echo "install-test-server: no class-data archive (the server starts slower)" >&2

# The SDK starts the executable as `<path> <port> [extra args]`, as it would its native build.
cat >"$WRAPPER" <<'EOF'
#!/usr/bin/env bash
# Temporal's Java test server (time-skipping), installed by scripts/install-test-server.sh.
DIR="$(cd "$(dirname "${BASH_SOURCE[0]}")/../temporal-test-server" && pwd)"
exec java -XX:+UseSerialGC -XX:TieredStopAtLevel=1 -XX:SharedArchiveFile="$DIR/classes.jsa" -Xshare:auto -Xlog:cds=off \
  -cp "$DIR/lib/*" io.temporal.testserver.TestServer "$@"
EOF
chmod +x "$WRAPPER"
echo "$TEST_SERVER_VERSION" >"$STAMP"
echo "install-test-server: installed temporal-test-server $TEST_SERVER_VERSION at ${WRAPPER#"$ROOT"/} ($(find "$LIB" -mindepth 1 -maxdepth 1 -name '*.jar' | wc -l) jars)"
