// The remote runner: agents as detached processes on another machine, driven over SSH.
//
// It keeps the local runner's contract: every agent process carries the marker
// A2A_DEPLOY_AGENT=job/agent and A2A_DEPLOY_SPEC=<spec hash> in its environment, and the
// marker (found by scanning the remote /proc), not a remembered pid, says what runs. So a
// start retried after a worker crash finds the agent it already started instead of starting
// a second copy.
//
// Remote commands are small POSIX sh scripts fed to `/bin/sh -s` on stdin: the login shell
// only ever parses the fixed words `/bin/sh -s` (so a fish or csh login shell does no harm),
// and every value from the job that enters a script goes through `shellQuote`, once.
//
// Host keys are always verified (a pinned fingerprint or known_hosts); unknown or changed
// keys are refused, never accepted on first use.
import { ApplicationFailure } from '@temporalio/activity';
import { createHash, createHmac } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { connect as tcpConnect, type Socket } from 'node:net';
import { constants as osConstants, homedir, userInfo } from 'node:os';
import { isAbsolute, join, resolve } from 'node:path';
import { Client, utils as sshUtils, type ClientChannel, type ConnectConfig } from 'ssh2';
import type { AgentPlan, DeploymentPlan } from '../job/plan';
import { healthRound, pollHealth } from './health';
import type {
  AgentEvent,
  AgentRef,
  LogChunk,
  LogRequest,
  RunnerActivities,
  StartedAgent,
  StopOptions,
  StoppedAgent,
  WatchOptions,
} from './types';
import { activityContext, heartbeat } from './context';
import { MARKER, markerOf, SPEC } from './markers';

/** Idle connections are closed after this long, so a quiet worker holds no sessions open. */
const IDLE_CLOSE_MS = 60_000;
/** sshd allows 10 sessions per connection by default (MaxSessions): stay below it. */
const MAX_CHANNELS = 8;
const TCP_CONNECT_TIMEOUT_MS = 10_000;
const HANDSHAKE_TIMEOUT_MS = 20_000;
/** A remote command that takes longer is treated as a lost connection. */
const COMMAND_TIMEOUT_MS = 30_000;
/** Every script prints this first, so whatever a login shell's rc files print is skipped. */
const BEGIN = 'A2A-DEPLOY-BEGIN';

// ---------------------------------------------------------------------------------------
// Quoting: the one function through which every job value reaches a remote shell.

/** Single-quotes a string for POSIX sh: inside '…' nothing is special except ' itself. */
export function shellQuote(value: string): string {
  if (value.includes('\0')) {
    // A NUL cannot be passed in argv or the environment: refuse rather than truncate silently.
    throw ApplicationFailure.nonRetryable(
      `a value contains a NUL byte, which no process can receive: ${JSON.stringify(value)}`,
      'AgentSpecError',
    );
  }
  return `'${value.replace(/'/g, `'\\''`)}'`;
}

/** A remote path as a shell word: `~` and `~/…` are the login user's home, the rest is literal. */
function remotePath(p: string): string {
  if (p === '~') return '"$HOME"';
  if (p.startsWith('~/')) return `"$HOME"/${shellQuote(p.slice(2))}`;
  return shellQuote(p);
}

/** A path on the worker's machine: `~` expanded, relative paths against the job file's folder. */
function localPath(p: string, baseDir: string): string {
  if (p === '~') return homedir();
  if (p.startsWith('~/')) return join(homedir(), p.slice(2));
  return isAbsolute(p) ? p : resolve(baseDir, p);
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

// ---------------------------------------------------------------------------------------
// Host key verification.

interface Endpoint {
  host: string;
  port: number;
  user: string;
  /** "host:port" for messages */
  label: string;
  /** how OpenSSH names the host in known_hosts: `host` on port 22, `[host]:port` otherwise */
  knownHostsName: string;
}

function endpointOf(d: DeploymentPlan): Endpoint {
  if (!d.host) throw ApplicationFailure.nonRetryable('a remote agent needs deployment.host', 'AgentSpecError');
  const host = d.host.replace(/^\[(.*)\]$/, '$1'); // [::1] → ::1
  const port = d.sshPort ?? 22;
  const user = d.user ?? currentUser();
  const bare = host.includes(':') ? `[${host}]` : host;
  return {
    host,
    port,
    user,
    label: `${bare}:${port}`,
    knownHostsName: port === 22 ? host.toLowerCase() : `[${host.toLowerCase()}]:${port}`,
  };
}

function currentUser(): string {
  try {
    return userInfo().username;
  } catch {
    return process.env.USER ?? 'root';
  }
}

/** OpenSSH's fingerprint of a public key blob: SHA256:<base64, unpadded>. */
export function fingerprint(key: Buffer): string {
  return `SHA256:${createHash('sha256').update(key).digest('base64').replace(/=+$/, '')}`;
}

/** The key type inside an SSH public key blob (a length-prefixed string at its start). */
function keyType(key: Buffer): string {
  try {
    return key.subarray(4, 4 + key.readUInt32BE(0)).toString('latin1');
  } catch {
    return 'unknown';
  }
}

interface KnownHost {
  marker?: string;
  patterns: string;
  type: string;
  key: Buffer;
  file: string;
  line: number;
}

function readKnownHosts(file: string): KnownHost[] {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch {
    return []; // a missing file knows no host: every host is unknown, hence refused
  }
  const out: KnownHost[] = [];
  text.split('\n').forEach((raw, i) => {
    const fields = raw.trim().split(/\s+/);
    if (!fields[0] || fields[0].startsWith('#')) return;
    const marker = fields[0].startsWith('@') ? fields.shift() : undefined;
    if (fields.length < 3) return;
    out.push({ marker, patterns: fields[0], type: fields[1], key: Buffer.from(fields[2], 'base64'), file, line: i + 1 });
  });
  return out;
}

/** Does a known_hosts host field (patterns, or one hashed |1|salt|hash name) name this host? */
export function knownHostsFieldMatches(field: string, name: string): boolean {
  if (field.startsWith('|1|')) {
    const [, , salt, hash] = field.split('|');
    if (!salt || !hash) return false;
    return createHmac('sha1', Buffer.from(salt, 'base64')).update(name).digest('base64') === hash;
  }
  let matched = false;
  for (const pattern of field.split(',')) {
    const negated = pattern.startsWith('!');
    const glob = (negated ? pattern.slice(1) : pattern).toLowerCase();
    const re = new RegExp(
      `^${glob
        .replace(/[.+^${}()|[\]\\]/g, '\\$&')
        .replace(/\*/g, '.*')
        .replace(/\?/g, '.')}$`,
    );
    if (re.test(name)) {
      if (negated) return false; // a matching negation wins over any positive match
      matched = true;
    }
  }
  return matched;
}

interface HostKeyPolicy {
  /** a pinned fingerprint, or */
  pinned?: string;
  /** the known_hosts file and its entries for this host */
  file: string;
  entries: KnownHost[];
}

function hostKeyPolicy(d: DeploymentPlan, ep: Endpoint, baseDir: string): HostKeyPolicy {
  const file = localPath(d.knownHosts ?? '~/.ssh/known_hosts', baseDir);
  if (d.hostKey) return { pinned: d.hostKey, file, entries: [] };
  return {
    file,
    entries: readKnownHosts(file).filter((e) => e.marker !== '@cert-authority' && knownHostsFieldMatches(e.patterns, ep.knownHostsName)),
  };
}

/** Throws (non-retryable) unless the presented key is the one we expect for this host. */
function verifyHostKey(key: Buffer, policy: HostKeyPolicy, ep: Endpoint): void {
  const fp = fingerprint(key);
  const type = keyType(key);
  if (policy.pinned) {
    if (policy.pinned.replace(/=+$/, '') === fp) return;
    throw ApplicationFailure.nonRetryable(
      `host key of ${ep.label} does not match deployment.host_key: expected ${policy.pinned}, the host presented ${fp} (${type}). ` +
        'Refusing to connect: someone may be intercepting the connection, or the host was re-keyed (then verify the new key out of band and update host_key).',
      'SshHostKeyMismatch',
    );
  }
  const revoked = policy.entries.find((e) => e.marker === '@revoked' && e.key.equals(key));
  if (revoked) {
    throw ApplicationFailure.nonRetryable(
      `host key of ${ep.label} (${fp}) is marked @revoked in ${revoked.file}:${revoked.line}; refusing to connect`,
      'SshHostKeyRevoked',
    );
  }
  const known = policy.entries.filter((e) => !e.marker);
  if (known.some((e) => e.key.equals(key))) return;
  const scan = `ssh-keyscan -p ${ep.port} -t ${type.replace(/^ssh-/, '')} ${ep.host}`;
  if (known.length === 0) {
    throw ApplicationFailure.nonRetryable(
      `host key of ${ep.label} is not known (fingerprint ${fp}, ${type}); verify it and add it to known_hosts ` +
        `(${scan} >> ${policy.file === join(homedir(), '.ssh', 'known_hosts') ? '~/.ssh/known_hosts' : policy.file}) or pin it with deployment.host_key: ${fp}`,
      'SshHostKeyUnknown',
    );
  }
  const where = known.map((e) => `${e.file}:${e.line} (${e.type})`).join(', ');
  throw ApplicationFailure.nonRetryable(
    `WARNING: REMOTE HOST IDENTIFICATION HAS CHANGED for ${ep.label}! The host presented a ${type} key with fingerprint ${fp}, ` +
      `but known_hosts holds another key for it at ${where}. Someone could be eavesdropping on you right now (man-in-the-middle attack), ` +
      `or the host key has just been changed. Refusing to connect. If the change is expected, verify the new key out of band, ` +
      `remove the old entry (ssh-keygen -R '${ep.knownHostsName}' -f ${policy.file}) and add the new one.`,
    'SshHostKeyChanged',
  );
}

/** Host key algorithms, those of the keys known_hosts holds first (as OpenSSH orders them), so a
 *  host with several keys presents the one we know rather than looking "changed". */
const HOST_KEY_ALGORITHMS = [
  'ssh-ed25519',
  'ecdsa-sha2-nistp256',
  'ecdsa-sha2-nistp384',
  'ecdsa-sha2-nistp521',
  'rsa-sha2-512',
  'rsa-sha2-256',
  'ssh-rsa',
] as const;
type HostKeyAlgorithm = (typeof HOST_KEY_ALGORITHMS)[number];
function hostKeyAlgorithms(policy: HostKeyPolicy): HostKeyAlgorithm[] {
  const knownTypes = new Set(policy.entries.filter((e) => !e.marker).map((e) => e.type));
  const algoType = (a: string) => (a.startsWith('rsa-sha2-') ? 'ssh-rsa' : a);
  const preferred = HOST_KEY_ALGORITHMS.filter((a) => knownTypes.has(algoType(a)));
  return [...preferred, ...HOST_KEY_ALGORITHMS.filter((a) => !preferred.includes(a))];
}

// ---------------------------------------------------------------------------------------
// Authentication.

interface Credentials {
  config: Pick<ConnectConfig, 'privateKey' | 'agent'>;
  /** for messages and the pool key */
  describe: string;
}

function usableKey(file: string): Buffer | Error {
  let data: Buffer;
  try {
    data = readFileSync(file);
  } catch (e) {
    return e as Error;
  }
  const parsed = sshUtils.parseKey(data);
  return parsed instanceof Error ? parsed : data;
}

function credentials(d: DeploymentPlan, baseDir: string): Credentials {
  if (d.sshKey) {
    const file = localPath(d.sshKey, baseDir);
    const key = usableKey(file);
    if (key instanceof Error) {
      throw ApplicationFailure.nonRetryable(
        `ssh key ${file} cannot be used: ${key.message}` +
          (/passphrase|encrypted/i.test(key.message)
            ? ' (use an unencrypted deploy key, or leave ssh_key out to use the SSH agent via SSH_AUTH_SOCK)'
            : ''),
        'SshKeyError',
      );
    }
    return { config: { privateKey: key }, describe: `key ${file}` };
  }
  if (process.env.SSH_AUTH_SOCK)
    return { config: { agent: process.env.SSH_AUTH_SOCK }, describe: `the SSH agent (${process.env.SSH_AUTH_SOCK})` };
  // Like ssh itself: fall back to the default identities when there is no agent.
  for (const name of ['id_ed25519', 'id_ecdsa', 'id_rsa']) {
    const file = join(homedir(), '.ssh', name);
    if (!existsSync(file)) continue;
    const key = usableKey(file);
    if (!(key instanceof Error)) return { config: { privateKey: key }, describe: `key ${file}` };
  }
  throw ApplicationFailure.nonRetryable(
    'no SSH credentials: set deployment.ssh_key, or run the worker with an SSH agent (SSH_AUTH_SOCK), or give it an unencrypted ~/.ssh/id_ed25519',
    'SshKeyError',
  );
}

// ---------------------------------------------------------------------------------------
// The connection pool: one connection per user@host:port (and per key and host-key policy,
// which agents on one host share in practice), reused by every activity of this worker.

interface Conn {
  id: string;
  ep: Endpoint;
  client: Client;
  sock: Socket;
  closed: boolean;
  /** channels open now, and callers waiting for one */
  active: number;
  waiting: (() => void)[];
  idleTimer?: NodeJS.Timeout;
  /** rejects commands in flight when the connection drops */
  onClose: Set<(err: Error) => void>;
}

const pool = new Map<string, Promise<Conn>>();
const baseDirFor = (d: DeploymentPlan) => {
  const ep = endpointOf(d);
  return baseDirs.get(`${ep.user}@${ep.label}`) ?? process.cwd();
};

/** The job folder last seen per host: a watched agent carries no baseDir, but its relative
 *  ssh_key / known_hosts paths resolve against it (falling back to the worker's cwd). */
const baseDirs = new Map<string, string>();

/** Open pooled connections (tests count them to see reuse). */
export function sshPoolSize(): number {
  return pool.size;
}

/** Closes every pooled connection (tests, and a worker shutting down). */
export async function closeSshConnections(): Promise<void> {
  const conns = await Promise.allSettled([...pool.values()]);
  pool.clear();
  for (const c of conns) if (c.status === 'fulfilled') closeConn(c.value);
}

function closeConn(conn: Conn) {
  if (conn.idleTimer) clearTimeout(conn.idleTimer);
  conn.closed = true;
  conn.client.end();
  conn.sock.destroy();
}

async function connection(d: DeploymentPlan, baseDir: string): Promise<Conn> {
  const ep = endpointOf(d);
  // The id is cheap to compute (commands run every few hundred ms); the key file and
  // known_hosts are read only when a connection is opened.
  const auth = d.sshKey ? localPath(d.sshKey, baseDir) : 'default';
  const hostKeys = d.hostKey ?? localPath(d.knownHosts ?? '~/.ssh/known_hosts', baseDir);
  const id = `${ep.user}@${ep.label}|${auth}|${hostKeys}`;
  baseDirs.set(`${ep.user}@${ep.label}`, baseDir);
  // A loop, because while we waited another caller may already have replaced a dead connection.
  for (let pooled = pool.get(id); pooled; pooled = pool.get(id)) {
    const conn = await pooled; // a connect in flight that fails, fails for all its waiters
    if (!conn.closed) return conn;
    if (pool.get(id) === pooled) pool.delete(id);
  }
  const fresh = (async () => openConnection(id, ep, credentials(d, baseDir), hostKeyPolicy(d, ep, baseDir)))();
  pool.set(id, fresh);
  // A failed connection is not kept: the next activity (or retry) tries afresh.
  fresh.catch(() => pool.get(id) === fresh && pool.delete(id));
  return fresh;
}

function tcpSocket(ep: Endpoint): Promise<Socket> {
  return new Promise((resolveSock, reject) => {
    const sock = tcpConnect({ host: ep.host, port: ep.port });
    const fail = (why: string) => {
      sock.destroy();
      // Retryable: a host that is rebooting comes back; the workflow's retries give up after a few.
      reject(ApplicationFailure.retryable(`cannot reach the SSH server at ${ep.label}: ${why}`, 'SshUnreachable'));
    };
    const timer = setTimeout(() => fail(`no answer within ${TCP_CONNECT_TIMEOUT_MS / 1000} s`), TCP_CONNECT_TIMEOUT_MS);
    sock.once('connect', () => {
      clearTimeout(timer);
      sock.removeAllListeners('error');
      // The kernel's keepalive finds a dead peer without a timer in our event loop (ssh2's
      // keepalive interval would keep an idle worker from exiting); commands also time out.
      sock.setKeepAlive(true, 15_000);
      resolveSock(sock);
    });
    sock.once('error', (e: NodeJS.ErrnoException) => {
      clearTimeout(timer);
      const what: Record<string, string> = {
        ECONNREFUSED: 'connection refused (is sshd running, and is ssh_port right?)',
        EHOSTUNREACH: 'host unreachable',
        ENETUNREACH: 'network unreachable',
        ETIMEDOUT: 'connection timed out',
        ENOTFOUND: 'host name not found',
        EAI_AGAIN: 'host name lookup failed (temporarily)',
      };
      fail(`${what[e.code ?? ''] ?? e.message}${e.code ? ` [${e.code}]` : ''}`);
    });
  });
}

async function openConnection(id: string, ep: Endpoint, creds: Credentials, policy: HostKeyPolicy): Promise<Conn> {
  const sock = await tcpSocket(ep);
  const client = new Client();
  let refused: Error | undefined; // why the host key was refused: clearer than ssh2's "Host denied"
  return new Promise<Conn>((resolveConn, reject) => {
    const conn: Conn = { id, ep, client, sock, closed: false, active: 0, waiting: [], onClose: new Set() };
    let ready = false;
    client.once('ready', () => {
      ready = true;
      release(conn, false); // starts the idle timer until someone runs a command
      resolveConn(conn);
    });
    client.on('error', (err: Error & { level?: string }) => {
      if (ready) return; // a drop after the handshake surfaces through 'close'
      client.end();
      sock.destroy();
      if (refused) return reject(refused);
      if (err.level === 'client-authentication') {
        return reject(
          ApplicationFailure.nonRetryable(
            `SSH authentication as ${ep.user} at ${ep.label} failed with ${creds.describe}: is its public key in the remote ~${ep.user}/.ssh/authorized_keys?`,
            'SshAuthFailed',
          ),
        );
      }
      reject(ApplicationFailure.retryable(`SSH connection to ${ep.label} failed: ${err.message}`, 'SshError'));
    });
    client.on('close', () => {
      conn.closed = true;
      if (conn.idleTimer) clearTimeout(conn.idleTimer);
      const entry = pool.get(id);
      entry?.then(
        (c) => c === conn && pool.get(id) === entry && pool.delete(id),
        () => undefined,
      );
      const err = ApplicationFailure.retryable(`SSH connection to ${ep.label} was lost`, 'SshConnectionLost');
      for (const f of conn.onClose) f(err);
      if (!ready) reject(refused ?? err);
    });
    client.connect({
      sock,
      host: ep.host,
      port: ep.port,
      username: ep.user,
      ...creds.config,
      readyTimeout: HANDSHAKE_TIMEOUT_MS,
      algorithms: { serverHostKey: hostKeyAlgorithms(policy) },
      hostVerifier: (key: Buffer) => {
        try {
          verifyHostKey(key, policy, ep);
          return true;
        } catch (e) {
          refused = e as Error;
          return false;
        }
      },
    });
  });
}

/** Waits for a free channel slot; holds the socket in the event loop while commands run. */
async function acquire(conn: Conn): Promise<void> {
  if (conn.idleTimer) clearTimeout(conn.idleTimer);
  conn.idleTimer = undefined;
  while (conn.active >= MAX_CHANNELS) await new Promise<void>((r) => conn.waiting.push(r));
  conn.active++;
  conn.sock.ref();
}

function release(conn: Conn, wasActive = true) {
  if (wasActive) conn.active--;
  conn.waiting.shift()?.();
  if (conn.active === 0 && !conn.closed) {
    // An idle connection must not keep the worker (or a CLI) alive, and is closed after a while.
    conn.sock.unref();
    if (conn.idleTimer) clearTimeout(conn.idleTimer);
    conn.idleTimer = setTimeout(() => {
      if (pool.get(conn.id)) pool.delete(conn.id);
      closeConn(conn);
    }, IDLE_CLOSE_MS);
    conn.idleTimer.unref();
  }
}

interface Output {
  code: number | null;
  /** stdout after the BEGIN line (what login shells print before it is dropped) */
  stdout: string;
  stderr: string;
}

/** Runs a sh script on the remote; the script reaches sh on stdin, never as a command line. */
async function runScript(conn: Conn, body: string, timeoutMs = COMMAND_TIMEOUT_MS): Promise<Output> {
  await acquire(conn);
  try {
    return await new Promise<Output>((done, fail) => {
      const out: Buffer[] = [];
      const err: Buffer[] = [];
      let settled = false;
      const finish = (f: () => void) => {
        if (settled) return;
        settled = true;
        clearTimeout(timer);
        conn.onClose.delete(onClose);
        f();
      };
      const onClose = (e: Error) => finish(() => fail(e));
      conn.onClose.add(onClose);
      const timer = setTimeout(() => {
        finish(() =>
          fail(ApplicationFailure.retryable(`a command on ${conn.ep.label} took longer than ${timeoutMs / 1000} s`, 'SshTimeout')),
        );
        closeConn(conn); // a hung session means a sick connection: start over with a new one
      }, timeoutMs);
      const onSession = (e: Error | undefined, stream: ClientChannel) => {
        if (e) {
          return finish(() =>
            fail(ApplicationFailure.retryable(`cannot open an SSH session on ${conn.ep.label}: ${e.message}`, 'SshError')),
          );
        }
        stream.on('data', (b: Buffer) => out.push(b));
        stream.stderr.on('data', (b: Buffer) => err.push(b));
        stream.on('close', (code: number | null) => {
          const text = Buffer.concat(out).toString('utf8');
          const at = text.indexOf(`${BEGIN}\n`);
          const stdout = at >= 0 ? text.slice(at + BEGIN.length + 1) : '';
          if (at < 0) {
            const why = Buffer.concat(err).toString('utf8').trim() || `exit status ${code}`;
            return finish(() => fail(ApplicationFailure.retryable(`remote shell on ${conn.ep.label} failed: ${why}`, 'SshRemoteError')));
          }
          finish(() => done({ code, stdout, stderr: Buffer.concat(err).toString('utf8') }));
        });
        // Braces: sh parses the whole script before running any of it, so a cut-off script
        // does nothing at all, and nothing that runs can read the script from stdin.
        stream.end(`{\necho ${BEGIN}\n${PRELUDE}\n${body}\n}\n`);
      };
      try {
        conn.client.exec('/bin/sh -s', onSession);
      } catch (e) {
        conn.closed = true; // "Not connected": the next attempt opens a new connection
        onSession(e as Error, undefined as never);
      }
    });
  } finally {
    release(conn);
  }
}

/** Runs a script for a deployment, reconnecting once if a pooled connection had gone stale. */
async function remote(d: DeploymentPlan, baseDir: string, body: string, timeoutMs?: number): Promise<Output> {
  // The workflow's heartbeat timeout is a few seconds; a slow handshake or a slow host must not
  // look like a dead worker. (Timers keep the activity's context, so this reaches Temporal.)
  const beat = setInterval(() => heartbeat(), 2000);
  try {
    for (let attempt = 0; ; attempt++) {
      const conn = await connection(d, baseDir);
      try {
        return await runScript(conn, body, timeoutMs);
      } catch (e) {
        // Every script is idempotent, so running it again on a fresh connection is safe.
        if (attempt === 0 && conn.closed) continue;
        throw e;
      }
    }
  } finally {
    clearInterval(beat);
  }
}

/** Lines `KEY rest…` that a script printed, by key. */
function lines(out: string, key: string): string[] {
  return out
    .split('\n')
    .filter((l) => l === key || l.startsWith(`${key} `))
    .map((l) => l.slice(key.length + 1));
}

// ---------------------------------------------------------------------------------------
// Remote shell snippets. Fixed text only: values are added by the callers, quoted.

const PRELUDE = String.raw`
# a2a_alive PID MARKER: PID lives (is not a zombie) and carries MARKER in its environment.
a2a_alive() {
  { read -r a2a_st < "/proc/$1/stat"; } 2>/dev/null || return 1
  case "\${a2a_st##*') '}" in Z*|X*) return 1 ;; esac
  grep -qsxzF -e "${MARKER}=$2" "/proc/$1/environ"
}
# a2a_find MARKER: "pid spec" of each live process group leader carrying MARKER (an agent's
# own children inherit the marker, but lead no group).
a2a_find() {
  a2a_m=$1
  for a2a_f in $(grep -lsxzF -e "${MARKER}=$a2a_m" /proc/[0-9]*/environ); do
    a2a_p=\${a2a_f#/proc/}; a2a_p=\${a2a_p%/environ}
    { read -r a2a_st < "/proc/$a2a_p/stat"; } 2>/dev/null || continue
    set -- \${a2a_st##*') '} # state ppid pgrp ...
    case "$1" in Z*|X*) continue ;; esac
    [ "$3" = "$a2a_p" ] || continue
    a2a_s=$(grep -asxz -m1 -e '${SPEC}=.*' "/proc/$a2a_p/environ" | tr -d '\000')
    echo "$a2a_p \${a2a_s#${SPEC}=}"
  done
}
a2a_error() { echo "A2A-DEPLOY-ERROR $*"; exit 0; }
`.replace(/\\\$/g, '$');

// The agent's group leader: a tiny sh that runs the agent, waits for it (through the
// TERM of a stop, which the whole group receives), and records how it ended, so the
// worker can say "exited with code 1" although it is not the agent's parent.
// $1 is the exit file; the rest is the agent's argv.
const WRAPPER = [
  'f=$1; shift',
  '"$@" &',
  'c=$!',
  // A no-op trap (unlike an ignored signal) is reset in the agent by exec, and makes wait return.
  'trap : TERM INT HUP',
  'while :; do wait "$c"; s=$?; kill -0 "$c" 2>/dev/null || break; done',
  'echo "$$ $s" > "$f"',
  'exit "$s"',
].join('\n');

/** `cd` into the agent's workdir (default: the login directory) and set D to its state dir. */
function enterAgentDir(job: string, agent: AgentPlan, create: boolean): string {
  const wd = agent.deployment.workdir ?? '~';
  const dir = `.a2a-deploy/${job}/${agent.id}`;
  return [
    `cd ${remotePath(wd)} 2>/dev/null || a2a_error ${shellQuote(`workdir ${wd} does not exist on the host`)}`,
    create ? `mkdir -p ${shellQuote(dir)} || a2a_error ${shellQuote(`cannot create ${dir} in`)} "$(pwd)"` : '',
    `D=$(pwd -P)/${shellQuote(dir)}`,
  ].join('\n');
}

// ---------------------------------------------------------------------------------------
// What runs where.

interface Running {
  pid: number;
  spec: string;
}

interface Ended {
  /** the agent's exit status as its wrapper saw it; undefined if unknown (e.g. SIGKILL) */
  status?: number;
}

function describeEnd(e: Ended | undefined): string {
  if (e?.status === undefined) return 'exited';
  if (e.status > 128) {
    const name = Object.entries(osConstants.signals).find(([, n]) => n === e.status! - 128)?.[0];
    if (name) return `was killed by ${name}`;
  }
  return `exited with code ${e.status}`;
}

const exitCodeOf = (e: Ended | undefined) => (e?.status === undefined || e.status > 128 ? null : e.status);

/** For each pid: alive (with its marker), or gone and how it ended. One round trip per host.
 *  With `waitGoneMs`, the remote shell first waits (polling every 50 ms) up to that long for
 *  all of them to end: a stop then costs one round trip per wait, not one per poll. */
async function status(
  d: DeploymentPlan,
  baseDir: string,
  job: string,
  agents: { id: string; pid: number; workdir?: string }[],
  waitGoneMs = 0,
): Promise<Map<number, Ended | 'alive'>> {
  const anyAlive = agents.map((a) => `a2a_alive ${a.pid} ${shellQuote(markerOf(job, a.id))}`).join(' || ');
  const wait =
    waitGoneMs > 0
      ? // `sleep 0.05` is GNU and busybox; a strictly POSIX sleep falls back to whole seconds.
        `n=0; while [ $n -lt ${Math.ceil(waitGoneMs / 50)} ] && { ${anyAlive}; }; do sleep 0.05 2>/dev/null || sleep 1; n=$((n + 1)); done\n`
      : '';
  const script =
    wait +
    agents
      .map((a) =>
        [
          `if a2a_alive ${a.pid} ${shellQuote(markerOf(job, a.id))}; then echo "A2A-DEPLOY-ST ${a.pid} alive"`,
          // Gone: the wrapper's record, if it is this pid's ("pid status").
          `else e=$( (cd ${remotePath(a.workdir ?? '~')} && cat ${shellQuote(`.a2a-deploy/${job}/${a.id}/exit`)}) 2>/dev/null); echo "A2A-DEPLOY-ST ${a.pid} gone $e"; fi`,
        ].join('\n'),
      )
      .join('\n');
  const out = await remote(d, baseDir, script, COMMAND_TIMEOUT_MS + waitGoneMs);
  const result = new Map<number, Ended | 'alive'>();
  for (const l of lines(out.stdout, 'A2A-DEPLOY-ST')) {
    const [pid, state, exitPid, exitStatus] = l.split(' ');
    if (state === 'alive') result.set(Number(pid), 'alive');
    else result.set(Number(pid), exitPid === pid && /^\d+$/.test(exitStatus ?? '') ? { status: Number(exitStatus) } : {});
  }
  return result;
}

/** The last lines of a remote log of an agent (for error messages). */
async function remoteTail(
  job: string,
  id: string,
  d: DeploymentPlan,
  baseDir: string,
  stream: 'stdout' | 'stderr',
  n = 15,
): Promise<string> {
  try {
    const out = await remote(
      d,
      baseDir,
      `cd ${remotePath(d.workdir ?? '~')} 2>/dev/null && tail -c 8192 ${shellQuote(`.a2a-deploy/${job}/${id}/${stream}.log`)} 2>/dev/null | tail -n ${n}`,
    );
    return out.stdout
      .split('\n')
      .filter((l) => l.length > 0)
      .join('\n');
  } catch (e) {
    return `(cannot read the remote ${stream}.log: ${(e as Error).message})`;
  }
}

/** Signals each agent's process group; then waits (heartbeating) until the leaders are gone. */
/** sh that signals the process groups led by these pids (the agent and its children). */
const signalScript = (sig: 'TERM' | 'KILL', pids: (number | string)[]) =>
  // dash's kill takes no `--`; `-PGID` right after the signal works in every sh.
  pids.map((p) => `kill -${sig} -${p} 2>/dev/null || kill -${sig} ${p} 2>/dev/null`).join('\n') + '\n:';

/** Stops agents: TERM to each group, a grace period, then KILL (at once when forced).
 *  `signalled`: the first signal was already sent (by the script that found them). */
async function terminate(job: string, agent: AgentPlan, pids: number[], force: boolean, signalled = false): Promise<boolean> {
  const d = agent.deployment;
  const signal = (sig: 'TERM' | 'KILL', which: number[]) => remote(d, agent.baseDir, signalScript(sig, which));
  const waitGone = async (which: number[], ms: number): Promise<number[]> => {
    const deadline = Date.now() + ms;
    for (;;) {
      // The remote waits in slices of at most 2 s, so we heartbeat in between.
      const slice = Math.max(0, Math.min(2000, deadline - Date.now()));
      const st = await status(
        d,
        agent.baseDir,
        job,
        which.map((pid) => ({ id: agent.id, pid, workdir: d.workdir })),
        slice,
      );
      const left = which.filter((p) => st.get(p) === 'alive');
      if (left.length === 0 || Date.now() >= deadline) return left;
      heartbeat({ stopping: left });
    }
  };
  let left = pids;
  if (!force) {
    if (!signalled) await signal('TERM', left);
    left = await waitGone(left, agent.stopGraceMs);
    if (left.length === 0) return false;
  }
  if (!signalled || !force) await signal('KILL', left);
  left = await waitGone(left, 5000);
  if (left.length > 0)
    throw ApplicationFailure.retryable(
      `agent '${agent.id}' (pid ${left.join(', ')}) survived SIGKILL on ${endpointOf(d).label}`,
      'AgentStopError',
    );
  return true;
}

// ---------------------------------------------------------------------------------------

export const sshRunner: RunnerActivities = {
  async startAgent({ job, agent }: AgentRef): Promise<StartedAgent> {
    const d = agent.deployment;
    const marker = markerOf(job, agent.id);
    for (const [name] of Object.entries(agent.env)) {
      // The schema allows only such names; checked again because a name is not quoted as a value is.
      if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(name))
        throw ApplicationFailure.nonRetryable(`invalid environment variable name ${JSON.stringify(name)}`, 'AgentSpecError');
    }
    // argv: the program and its arguments as shell words (a module path may need resolving first).
    let program: string;
    let words: string[];
    let moduleCheck = '';
    if (agent.run.command) {
      const [cmd, ...rest] = agent.run.command;
      program = shellQuote(cmd);
      words = [program, ...[...rest, ...agent.run.args].map(shellQuote)];
    } else {
      const spec = agent.run.module!;
      program = shellQuote(d.node);
      if (spec.startsWith('.') || spec.startsWith('/') || spec.startsWith('~')) {
        // A path: relative to the workdir on the host.
        moduleCheck = `MOD=${remotePath(spec)}\n[ -f "$MOD" ] || a2a_error ${shellQuote(`module ${spec} not found on the host (relative to`)} "$(pwd))"`;
      } else {
        // A package specifier (a2a-deploy/agents/weather): node resolves it on the host, from the workdir.
        moduleCheck =
          `MOD=$(${program} -p 'require.resolve(process.argv[1], { paths: [process.cwd()] })' ${shellQuote(spec)} 2>/dev/null) ` +
          `|| a2a_error ${shellQuote(`module ${spec} cannot be resolved on the host from`)} "$(pwd)"`;
      }
      words = [program, '"$MOD"', ...agent.run.args.map(shellQuote)];
    }
    const env = { ...agent.env, [MARKER]: marker, [SPEC]: agent.specHash };
    const assignments = Object.entries(env).map(([k, v]) => shellQuote(`${k}=${v}`));

    for (let round = 0; round < 3; round++) {
      const startedAt = new Date().toISOString();
      // One script: look for a running copy; only if there is none, start one.
      const script = [
        enterAgentDir(job, agent, true),
        `echo "A2A-DEPLOY-DIR $D"`,
        `running=$(a2a_find ${shellQuote(marker)})`,
        `if [ -n "$running" ]; then`,
        `  echo "$running" | sed 's/^/A2A-DEPLOY-RUNNING /'`,
        `  [ -f "$D/agent.pid" ] && echo "A2A-DEPLOY-PIDFILE $(cat "$D/agent.pid")"`,
        `  exit 0`,
        `fi`,
        `command -v ${program} >/dev/null 2>&1 || a2a_error ${shellQuote(`${agent.run.command?.[0] ?? d.node} not found on the host; PATH is`)} "$PATH"`,
        // Absolute paths: the agent's own env (which may set PATH) must not change what runs them.
        `SETSID=$(command -v setsid) || a2a_error 'setsid not found on the host (util-linux)'`,
        `NOHUP=$(command -v nohup) || a2a_error 'nohup not found on the host (coreutils)'`,
        moduleCheck,
        `rm -f "$D/exit"`,
        `printf '%s\\n' ${shellQuote(`--- a2a-deploy: starting ${agent.id} at ${startedAt}: `)}"$(printf '%s ' ${words.join(' ')})" >> "$D/stderr.log"`,
        // Detached: its own session and process group (setsid), deaf to hangups (nohup), no
        // terminal, stdin from /dev/null, output to the log files; env adds to the login env.
        `env ${assignments.join(' ')} "$SETSID" "$NOHUP" /bin/sh -c ${shellQuote(WRAPPER)} a2a-agent "$D/exit" ${words.join(' ')} </dev/null >>"$D/stdout.log" 2>>"$D/stderr.log" &`,
        `pid=$!`,
        // Atomic: a reader never sees half a pid file.
        `printf '%s %s %s\\n' "$pid" ${shellQuote(agent.specHash)} ${shellQuote(startedAt)} > "$D/.agent.pid.$$" && mv -f "$D/.agent.pid.$$" "$D/agent.pid"`,
        `echo "A2A-DEPLOY-STARTED $pid"`,
      ].join('\n');
      const out = (await remote(d, agent.baseDir, script)).stdout;
      const error = lines(out, 'A2A-DEPLOY-ERROR')[0];
      if (error !== undefined)
        throw ApplicationFailure.nonRetryable(`cannot start '${agent.id}' on ${endpointOf(d).label}: ${error}`, 'AgentStartError');
      const logDir = lines(out, 'A2A-DEPLOY-DIR')[0] ?? '';
      const started = lines(out, 'A2A-DEPLOY-STARTED')[0];
      if (started) return { pid: Number(started), reused: false, startedAt, logDir };

      const running: Running[] = lines(out, 'A2A-DEPLOY-RUNNING').map((l) => {
        const [pid, spec = ''] = l.split(' ');
        return { pid: Number(pid), spec };
      });
      const same = running.find((p) => p.spec === agent.specHash);
      if (same && running.length === 1) {
        // Idempotent: the same spec already runs (a retried or replayed start).
        const [pidText, , recordedAt] = (lines(out, 'A2A-DEPLOY-PIDFILE')[0] ?? '').split(' ');
        return { pid: same.pid, reused: true, startedAt: Number(pidText) === same.pid && recordedAt ? recordedAt : startedAt, logDir };
      }
      // An older spec, or strays: stop them, then look again (and start).
      await terminate(
        job,
        agent,
        running.map((p) => p.pid),
        false,
      );
    }
    throw ApplicationFailure.retryable(
      `agent '${agent.id}' keeps reappearing on ${endpointOf(d).label}; is another deployer starting it?`,
      'AgentStartError',
    );
  },

  async waitHealthy({ job, agent, pid }) {
    const ctx = activityContext();
    let ended: Ended | undefined;
    return pollHealth(agent, {
      alive: async () => {
        const st = (await status(agent.deployment, agent.baseDir, job, [{ id: agent.id, pid, workdir: agent.deployment.workdir }])).get(
          pid,
        );
        if (st === 'alive') return true;
        ended = st;
        return false;
      },
      describeExit: () => `agent '${agent.id}' ${describeEnd(ended)} on ${endpointOf(agent.deployment).label} before becoming healthy`,
      stderr: () => remoteTail(job, agent.id, agent.deployment, agent.baseDir, 'stderr'),
      signal: ctx?.cancellationSignal ?? new AbortController().signal,
      heartbeat: (details) => ctx?.heartbeat(details),
    });
  },

  async stopAgent({ job, agent, force }: StopOptions): Promise<StoppedAgent> {
    const marker = markerOf(job, agent.id);
    // By marker, not by pid file: that finds the agent even if its pid file was lost. The
    // same round trip sends the first signal, and when nothing runs it is all there is to do.
    const removePidFile = `( ${enterAgentDir(job, agent, false)}\nrm -f "$D/agent.pid" ) >/dev/null`;
    const script = [
      `pids=$(a2a_find ${shellQuote(marker)} | cut -d' ' -f1)`,
      `[ -z "$pids" ] && { ${removePidFile}; exit 0; }`,
      `for p in $pids; do echo "A2A-DEPLOY-RUNNING $p"; done`,
      signalScript(force ? 'KILL' : 'TERM', ['$p']).replace(/^/, 'for p in $pids; do\n') + '\ndone',
    ].join('\n');
    const out = (await remote(agent.deployment, agent.baseDir, script)).stdout;
    const pids = lines(out, 'A2A-DEPLOY-RUNNING').map(Number);
    if (pids.length === 0) return { wasRunning: false, forced: false };
    heartbeat({ stopping: pids });
    const forced = await terminate(job, agent, pids, !!force, true);
    await remote(agent.deployment, agent.baseDir, removePidFile);
    return { wasRunning: true, forced };
  },

  async watchAgents({ job, agents, unhealthyAfter = 3 }: WatchOptions): Promise<AgentEvent[]> {
    const ctx = activityContext();
    const misses = new Map<string, number>();
    // One liveness command per host and round; agents on one host share its connection.
    const byHost = new Map<string, typeof agents>();
    for (const a of agents) {
      const ep = endpointOf(a.deployment);
      const key = `${ep.user}@${ep.label}`;
      byHost.set(key, [...(byHost.get(key) ?? []), a]);
    }
    for (let round = 0; ; round++) {
      const events: AgentEvent[] = [];
      const alive: typeof agents = [];
      // Hosts side by side: one slow host does not delay the others' checks.
      await Promise.all(
        [...byHost].map(async ([host, group]) => {
          const d = group[0].deployment;
          const baseDir = baseDirs.get(host) ?? process.cwd();
          const st = await status(
            d,
            baseDir,
            job,
            group.map((a) => ({ id: a.id, pid: a.pid, workdir: a.deployment.workdir })),
          );
          for (const a of group) {
            const s = st.get(a.pid);
            if (s === 'alive') {
              alive.push(a);
              continue;
            }
            events.push({
              id: a.id,
              kind: 'exited',
              exitCode: exitCodeOf(s),
              detail: `agent '${a.id}' ${describeEnd(s)} on ${endpointOf(d).label}`,
              stderr: await remoteTail(job, a.id, a.deployment, baseDir, 'stderr'),
            });
          }
        }),
      );
      // Liveness every second; health (HTTP from the worker) every other round.
      if (round % 2 === 0)
        events.push(
          ...(await healthRound(alive, misses, unhealthyAfter, (a) =>
            remoteTail(job, a.id, a.deployment, baseDirFor(a.deployment), 'stderr'),
          )),
        );
      if (events.length > 0) return events;
      ctx?.heartbeat({ round });
      await Promise.race([sleep(1000), ...(ctx ? [ctx.cancelled] : [])]);
    }
  },

  async readLogs({ job, agent, tail, offsets }: LogRequest): Promise<LogChunk> {
    const d = agent.deployment;
    // One command per stream, run side by side: its first line is the file's size, then the text.
    const read = async (name: 'stdout' | 'stderr') => {
      const from = Math.max(0, Math.floor(Number(offsets?.[name]) || 0));
      const script = [
        `cd ${remotePath(d.workdir ?? '~')} 2>/dev/null || { echo 0; exit 0; }`,
        `f=${shellQuote(`.a2a-deploy/${job}/${agent.id}/${name}.log`)}`,
        `size=$(stat -c %s "$f" 2>/dev/null || echo 0)`,
        `echo "$size"`,
        offsets
          ? // What was appended since the offset; a file that shrank was replaced: start over.
            `from=${from}; [ "$size" -lt "$from" ] && from=0; [ "$size" -gt "$from" ] && tail -c +$((from + 1)) "$f" | head -c $((size - from))`
          : tail > 0
            ? `[ "$size" -gt 0 ] && tail -c 1048576 "$f" | tail -n ${Math.floor(tail)}`
            : '',
        ':',
      ].join('\n');
      const out = (await remote(d, agent.baseDir, script)).stdout;
      const nl = out.indexOf('\n');
      const size = Number(out.slice(0, nl)) || 0;
      const text = out.slice(nl + 1);
      return {
        size,
        text: offsets
          ? text
          : text
              .split('\n')
              .filter((l) => l.length > 0)
              .join('\n'),
      };
    };
    const [out, err] = await Promise.all([read('stdout'), read('stderr')]);
    return { stdout: out.text, stderr: err.text, offsets: { stdout: out.size, stderr: err.size } };
  },
};
