// The connection pool: one connection per user@host:port (and per key and host-key policy,
// which agents on one host share in practice), reused by every activity of the worker that
// owns the pool. Scripts go to `/bin/sh -s` on stdin, a few channels at a time per connection.
import { ApplicationFailure } from '@temporalio/activity';
import { connect as tcpConnect, type Socket } from 'node:net';
import { Client, type ClientChannel } from 'ssh2';
import type { DeploymentPlan } from '../../job/plan';
import { withHeartbeat } from '../context';
import { credentials, type Credentials } from './credentials';
import { endpointOf, hostKey, type Endpoint } from './endpoint';
import { hostKeyAlgorithms, hostKeyPolicy, verifyHostKey, type HostKeyPolicy } from './host-keys';
import { localPath } from './quoting';
import { afterBegin, wrapScript } from './scripts';

/** Idle connections are closed after this long, so a quiet worker holds no sessions open. */
const IDLE_CLOSE_MS = 60_000;
/** sshd allows 10 sessions per connection by default (MaxSessions): stay below it. */
const MAX_CHANNELS = 8;
const TCP_CONNECT_TIMEOUT_MS = 10_000;
const HANDSHAKE_TIMEOUT_MS = 20_000;
/** A remote command that takes longer is treated as a lost connection. */
export const COMMAND_TIMEOUT_MS = 30_000;

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

interface Output {
  code: number | null;
  /** stdout after the BEGIN line (what login shells print before it is dropped) */
  stdout: string;
  stderr: string;
}

function closeConn(conn: Conn) {
  if (conn.idleTimer) clearTimeout(conn.idleTimer);
  conn.closed = true;
  conn.client.end();
  conn.sock.destroy();
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

export class SshPool {
  private readonly conns = new Map<string, Promise<Conn>>();
  /** The job folder last seen per host: a watched agent carries no baseDir, but its relative
   *  ssh_key / known_hosts paths resolve against it (falling back to the worker's cwd). */
  private readonly baseDirs = new Map<string, string>();

  /** Open pooled connections (tests count them to see reuse). */
  get size(): number {
    return this.conns.size;
  }

  /** The job folder last used for this deployment's host. */
  baseDirFor(d: DeploymentPlan): string {
    return this.baseDirs.get(hostKey(endpointOf(d))) ?? process.cwd();
  }

  /** Closes every pooled connection (tests, and a worker shutting down). */
  async closeAll(): Promise<void> {
    const conns = await Promise.allSettled([...this.conns.values()]);
    this.conns.clear();
    for (const c of conns) if (c.status === 'fulfilled') closeConn(c.value);
  }

  private async connection(d: DeploymentPlan, baseDir: string): Promise<Conn> {
    const ep = endpointOf(d);
    // The id is cheap to compute (commands run every few hundred ms); the key file and
    // known_hosts are read only when a connection is opened.
    const auth = d.sshKey ? localPath(d.sshKey, baseDir) : 'default';
    const hostKeys = d.hostKey ?? localPath(d.knownHosts ?? '~/.ssh/known_hosts', baseDir);
    const id = `${hostKey(ep)}|${auth}|${hostKeys}`;
    this.baseDirs.set(hostKey(ep), baseDir);
    // A loop, because while we waited another caller may already have replaced a dead connection.
    for (let pooled = this.conns.get(id); pooled; pooled = this.conns.get(id)) {
      const conn = await pooled; // a connect in flight that fails, fails for all its waiters
      if (!conn.closed) return conn;
      if (this.conns.get(id) === pooled) this.conns.delete(id);
    }
    const fresh = (async () => this.open(id, ep, credentials(d, baseDir), hostKeyPolicy(d, ep, baseDir)))();
    this.conns.set(id, fresh);
    // A failed connection is not kept: the next activity (or retry) tries afresh.
    fresh.catch(() => this.conns.get(id) === fresh && this.conns.delete(id));
    return fresh;
  }

  private async open(id: string, ep: Endpoint, creds: Credentials, policy: HostKeyPolicy): Promise<Conn> {
    const sock = await tcpSocket(ep);
    const client = new Client();
    let refused: Error | undefined; // why the host key was refused: clearer than ssh2's "Host denied"
    return new Promise<Conn>((resolveConn, reject) => {
      const conn: Conn = { id, ep, client, sock, closed: false, active: 0, waiting: [], onClose: new Set() };
      let ready = false;
      client.once('ready', () => {
        ready = true;
        this.release(conn, false); // starts the idle timer until someone runs a command
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
        const entry = this.conns.get(id);
        entry?.then(
          (c) => c === conn && this.conns.get(id) === entry && this.conns.delete(id),
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
  private async acquire(conn: Conn): Promise<void> {
    if (conn.idleTimer) clearTimeout(conn.idleTimer);
    conn.idleTimer = undefined;
    while (conn.active >= MAX_CHANNELS) await new Promise<void>((r) => conn.waiting.push(r));
    conn.active++;
    conn.sock.ref();
  }

  private release(conn: Conn, wasActive = true) {
    if (wasActive) conn.active--;
    conn.waiting.shift()?.();
    if (conn.active === 0 && !conn.closed) {
      // An idle connection must not keep the worker (or a CLI) alive, and is closed after a while.
      conn.sock.unref();
      if (conn.idleTimer) clearTimeout(conn.idleTimer);
      conn.idleTimer = setTimeout(() => {
        if (this.conns.get(conn.id)) this.conns.delete(conn.id);
        closeConn(conn);
      }, IDLE_CLOSE_MS);
      conn.idleTimer.unref();
    }
  }

  /** Runs a sh script on the remote; the script reaches sh on stdin, never as a command line. */
  private async runScript(conn: Conn, body: string, timeoutMs = COMMAND_TIMEOUT_MS): Promise<Output> {
    await this.acquire(conn);
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
            const stdout = afterBegin(Buffer.concat(out).toString('utf8'));
            if (stdout === undefined) {
              const why = Buffer.concat(err).toString('utf8').trim() || `exit status ${code}`;
              return finish(() => fail(ApplicationFailure.retryable(`remote shell on ${conn.ep.label} failed: ${why}`, 'SshRemoteError')));
            }
            finish(() => done({ code, stdout, stderr: Buffer.concat(err).toString('utf8') }));
          });
          stream.end(wrapScript(body));
        };
        try {
          conn.client.exec('/bin/sh -s', onSession);
        } catch (e) {
          conn.closed = true; // "Not connected": the next attempt opens a new connection
          onSession(e as Error, undefined as never);
        }
      });
    } finally {
      this.release(conn);
    }
  }

  /** Runs a script for a deployment, reconnecting once if a pooled connection had gone stale. */
  async run(d: DeploymentPlan, baseDir: string, body: string, timeoutMs?: number): Promise<Output> {
    // The workflow's heartbeat timeout is a few seconds; a slow handshake or a slow host must not
    // look like a dead worker.
    return withHeartbeat(async () => {
      for (let attempt = 0; ; attempt++) {
        const conn = await this.connection(d, baseDir);
        try {
          return await this.runScript(conn, body, timeoutMs);
        } catch (e) {
          // Every script is idempotent, so running it again on a fresh connection is safe.
          if (attempt === 0 && conn.closed) continue;
          throw e;
        }
      }
    }, 2000);
  }
}
