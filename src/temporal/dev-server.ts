// The embedded Temporal: `temporal server start-dev` (the CLI pinned by scripts/install-temporal.sh)
// running detached with its SQLite file in a state directory, so jobs outlive both the a2a-deploy
// process that started the server and restarts of the server itself.
import { Connection } from '@temporalio/client';
import { msToTs } from '@temporalio/common/lib/time';
import { spawn } from 'node:child_process';
import { accessSync, closeSync, constants, mkdirSync, openSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { createConnection } from 'node:net';
import { delimiter, join, resolve } from 'node:path';
import { joinHostPort, splitHostPort } from '../common/host';
import { sleep } from '../common/sleep';
import { waitUntil } from '../common/wait';
import { tailLines } from '../common/text-tail';
import { SEARCH_ATTRIBUTE_NAMES } from '../config/names';
import { InvalidInputError } from '../common/errors';
import { formatMs, parseDuration } from '../common/duration';
import { packageRoot } from '../config/paths';
import { isAlive, terminateProcess } from '../process';

/** Custom search attributes the workflows set; the dev server must know them before a job starts. */
export const SEARCH_ATTRIBUTES = {
  [SEARCH_ATTRIBUTE_NAMES.job]: 'Keyword',
  [SEARCH_ATTRIBUTE_NAMES.phase]: 'Keyword',
  [SEARCH_ATTRIBUTE_NAMES.topology]: 'Keyword',
  [SEARCH_ATTRIBUTE_NAMES.paused]: 'Bool',
} as const;
// temporal.api.enums.v1.IndexedValueType, without depending on @temporalio/proto directly.
const INDEXED_VALUE_TYPE = { Keyword: 2, Bool: 5 } as const;

export interface DevServerOptions {
  stateDir: string;
  /** gRPC port, default 7233 */
  port?: number;
  /** Web UI port, default 8233 */
  uiPort?: number;
  /** default 'default' */
  namespace?: string;
  /** default 127.0.0.1 */
  ip?: string;
  /** how long the namespace keeps a finished job's runs; default A2A_DEPLOY_RETENTION, else 7 days */
  retentionMs?: number;
}

export interface DevServer {
  pid: number;
  address: string;
  uiUrl: string;
  logFile: string;
}

const dbFile = (stateDir: string) => join(stateDir, 'temporal.sqlite');
const pidFile = (stateDir: string) => join(stateDir, 'temporal-server.pid');
const logFile = (stateDir: string) => join(stateDir, 'temporal-server.log');

function isExecutableFile(file: string): boolean {
  try {
    accessSync(file, constants.X_OK);
    return statSync(file).isFile();
  } catch {
    return false;
  }
}

export function temporalBinary(): string {
  const hint = 'run scripts/install-temporal.sh, or set TEMPORAL_CLI to a temporal binary';
  const fromEnv = process.env.TEMPORAL_CLI;
  if (fromEnv) {
    // An explicit choice that is wrong should fail loudly, not silently fall back to another version.
    if (isExecutableFile(fromEnv)) return fromEnv;
    throw new Error(`TEMPORAL_CLI=${fromEnv} is not an executable file; ${hint}`);
  }
  const exe = process.platform === 'win32' ? 'temporal.exe' : 'temporal';
  const onPath = (process.env.PATH ?? '')
    .split(delimiter)
    .filter(Boolean)
    .map((dir) => join(dir, exe));
  const found = [join(packageRoot(), '.tools', 'bin', exe), ...onPath].find(isExecutableFile);
  if (!found) throw new Error(`no Temporal CLI in ${join(packageRoot(), '.tools', 'bin')} or on PATH; ${hint}`);
  return found;
}

function withDefaults(opts: DevServerOptions): Required<DevServerOptions> {
  return {
    // Absolute, because the pid-file check matches the database path in the server's command line.
    stateDir: resolve(opts.stateDir),
    port: opts.port ?? 7233,
    uiPort: opts.uiPort ?? 8233,
    namespace: opts.namespace ?? 'default',
    ip: opts.ip ?? '127.0.0.1',
    retentionMs: opts.retentionMs ?? embeddedRetentionMs(),
  };
}

/** The server refuses a namespace retention under a day (its minimum for a namespace). */
const MIN_RETENTION_MS = 86_400_000;

/**
 * How long the embedded namespace keeps a finished job's runs before the server removes them:
 * A2A_DEPLOY_RETENTION (7d, 36h, ...), default 7 days. Checked before any server is started.
 */
export function embeddedRetentionMs(env: NodeJS.ProcessEnv = process.env): number {
  const raw = env.A2A_DEPLOY_RETENTION;
  if (!raw) return 7 * 86_400_000;
  const ms = parseDuration(raw);
  if (ms === undefined || ms < MIN_RETENTION_MS)
    throw new InvalidInputError(
      `A2A_DEPLOY_RETENTION '${raw.slice(0, 20)}' is not a duration of at least 1d`,
      "e.g. A2A_DEPLOY_RETENTION=7d (the default) or 36h; Temporal keeps a namespace's finished runs at least a day",
    );
  return ms;
}

export { formatMs as formatRetention };

// A server bound to every interface is still dialled on loopback.
const dialHost = (ip: string) => (ip === '0.0.0.0' ? '127.0.0.1' : ip === '::' ? '::1' : ip);

export function devServerArgs(opts: DevServerOptions): string[] {
  const o = withDefaults(opts);
  return [
    'server',
    'start-dev',
    '--db-filename',
    dbFile(o.stateDir),
    '--ip',
    o.ip,
    '--port',
    String(o.port),
    '--ui-port',
    String(o.uiPort),
    '--namespace',
    o.namespace,
    ...Object.entries(SEARCH_ATTRIBUTES).flatMap(([name, type]) => ['--search-attribute', `${name}=${type}`]),
    // Nothing should leave the machine: no server version check, no UI newsfeed.
    '--dynamic-config-value',
    'frontend.enableServerVersionCheck=false',
    // Eager activities: the worker that completes a workflow task gets the activities it just
    // scheduled in the same reply, skipping a trip through matching (each dependency level
    // of a deploy is one such activity).
    '--dynamic-config-value',
    'system.enableActivityEagerExecution=true',
    // `delete` and `prune`: the server deletes a closed run only once its close tasks are
    // acknowledged, and it records acknowledgements every 30 s by default, so a run deleted soon
    // after it closed stayed visible for up to half a minute. Every second instead.
    '--dynamic-config-value',
    'history.transferProcessorUpdateAckInterval="1s"',
    '--dynamic-config-value',
    'history.visibilityProcessorUpdateAckInterval="1s"',
    // Task priority (job.priority -> priorityKey): the priority matcher dispatches a backlog in
    // priority order (explicit, whatever this server version's default is). Priority holds
    // within one partition of a task queue; new tasks go to one partition (the four read
    // partitions of an existing database still drain), so on this one-machine server it is exact.
    '--dynamic-config-value',
    'matching.useNewMatcher=true',
    '--dynamic-config-value',
    'matching.numTaskqueueWritePartitions=1',
    '--ui-disable-news-fetch',
    // The Web UI decodes payloads through `a2a-deploy codec-server` at the UI's port + 1.
    '--ui-codec-endpoint',
    `http://127.0.0.1:${o.uiPort + 1}`,
    // Deliberately no --log-level: start-dev already defaults to warn, and only when the flag is
    // left unset does it suppress the burst of warnings and errors every shutdown logs.
  ];
}

/**
 * Starts the dev server in its own process group (so it outlives this process and a Ctrl-C in
 * its terminal) and resolves once the namespace answers. Returns the running one if this state
 * directory already has a live server.
 */
export async function startDevServerDetached(opts: DevServerOptions, timeoutMs = 60_000): Promise<DevServer> {
  const o = withDefaults(opts);
  const address = joinHostPort(dialHost(o.ip), o.port);
  const server = { address, uiUrl: `http://${joinHostPort(dialHost(o.ip), o.uiPort)}`, logFile: logFile(o.stateDir) };

  const running = recordedServer(o.stateDir);
  if (running) {
    const at = running.args?.indexOf('--port') ?? -1;
    const port = at >= 0 ? running.args?.[at + 1] : undefined;
    if (port !== undefined && port !== String(o.port)) {
      throw new Error(`a Temporal dev server for ${o.stateDir} already runs on port ${port} (pid ${running.pid}); stop it first`);
    }
    // It may still be coming up (a concurrent start): wait for it rather than start a second
    // server on the same SQLite file.
    await waitUntilReady(o, address, server.logFile, timeoutMs, () => (isAlive(running.pid) ? undefined : `(pid ${running.pid}) exited`));
    return { pid: running.pid, ...server };
  }
  const binary = temporalBinary();
  // start-dev would die with "address already in use" anyway; say whose fault it is up front.
  if (await isPortOpen(dialHost(o.ip), o.port, 1000)) {
    throw new Error(
      `${address} is already in use by a process that is not the dev server of ${o.stateDir}; stop it or choose another port`,
    );
  }

  mkdirSync(o.stateDir, { recursive: true });
  // Truncated per start, so the tail quoted in errors is about this run.
  const log = openSync(server.logFile, 'w');
  let exited: string | undefined;
  let pid: number | undefined;
  try {
    const child = spawn(binary, devServerArgs(o), { detached: true, stdio: ['ignore', log, log], cwd: o.stateDir });
    child.on('error', (err) => (exited = `failed to start: ${err.message}`));
    child.on('exit', (code, signal) => (exited = `exited (${signal ?? `code ${code}`})`));
    child.unref();
    pid = child.pid;
  } finally {
    closeSync(log);
  }
  if (pid === undefined) {
    await sleep(0); // lets the 'error' event say why
    throw new Error(`could not start the Temporal dev server: ${exited ?? 'no pid'}`);
  }
  writeFileSync(pidFile(o.stateDir), String(pid));
  try {
    await waitUntilReady(o, address, server.logFile, timeoutMs, () => exited);
  } catch (err) {
    await stopDevServer(o.stateDir);
    throw err;
  }
  return { pid, ...server };
}

/** SIGTERM (then, after 10 s, SIGKILL) to the server recorded in the state directory. */
export async function stopDevServer(stateDir: string): Promise<boolean> {
  const dir = resolve(stateDir);
  const running = recordedServer(dir);
  if (running) await terminateProcess(running.pid, { graceMs: 10_000, killWaitMs: 2_000, pollMs: 100 });
  rmSync(pidFile(dir), { force: true });
  return running !== undefined;
}

/** Whether a Temporal frontend answers at `address` (plaintext, as the dev server speaks). */
export async function isTemporalReachable(address: string, timeoutMs = 2000): Promise<boolean> {
  const [host, port] = splitHostPort(address, 7233);
  // A plain TCP probe first: "nothing listens" is the common answer and should not cost timeoutMs.
  if (!(await isPortOpen(host, port, timeoutMs))) return false;
  let connection: Connection | undefined;
  try {
    connection = await Connection.connect({ address, connectTimeout: timeoutMs });
    return true;
  } catch {
    return false;
  } finally {
    await connection?.close();
  }
}

function recordedServer(stateDir: string): { pid: number; args?: string[] } | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(pidFile(stateDir), 'utf8').trim());
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  if (process.platform !== 'linux') return { pid };
  // The pid may since belong to an unrelated process: only trust a start-dev on our database.
  try {
    const args = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    return args.includes('start-dev') && args.includes(dbFile(stateDir)) ? { pid, args } : undefined;
  } catch {
    return undefined;
  }
}

function isPortOpen(host: string, port: number, timeoutMs: number): Promise<boolean> {
  return new Promise((done) => {
    const socket = createConnection({ host, port });
    const finish = (open: boolean) => {
      socket.destroy();
      done(open);
    };
    socket.setTimeout(timeoutMs, () => finish(false));
    socket.once('connect', () => finish(true));
    socket.once('error', () => finish(false));
  });
}

/** Resolves once the server answers and its namespace is prepared (search attributes, retention). */
export async function waitUntilReady(
  o: Pick<Required<DevServerOptions>, 'namespace' | 'retentionMs'>,
  address: string,
  log: string,
  timeoutMs: number,
  exitReason: () => string | undefined,
): Promise<void> {
  const [host, port] = splitHostPort(address, 7233);
  const deadline = Date.now() + timeoutMs;
  let last = 'the gRPC port never opened';
  const ready = async () => {
    const why = exitReason();
    if (why) throw new Error(`the Temporal dev server ${why}; last lines of ${log}:\n${tail(log)}`);
    if (!(await isPortOpen(host, port, 1000))) return false;
    try {
      await prepareNamespace(address, o, Math.min(5000, Math.max(1000, deadline - Date.now())));
      return true;
    } catch (err) {
      last = err instanceof Error ? err.message.split('\n')[0] : String(err);
      return false;
    }
  };
  if (!(await waitUntil(ready, timeoutMs, { fastPollMs: 200, pollMs: 200 })))
    throw new Error(
      `the Temporal dev server was not ready at ${address} within ${timeoutMs} ms (${last}); last lines of ${log}:\n${tail(log)}`,
    );
}

/**
 * Usable means the namespace answers and has our search attributes. start-dev registers
 * --search-attribute only when it creates a namespace, so a database from an older release
 * (or a namespace created otherwise) gets the missing ones here. start-dev has no retention
 * flag either (it creates namespaces with one day): the retention is set here, on every start.
 */
async function prepareNamespace(
  address: string,
  { namespace, retentionMs }: Pick<Required<DevServerOptions>, 'namespace' | 'retentionMs'>,
  timeoutMs: number,
): Promise<void> {
  const connection = await Connection.connect({ address, connectTimeout: timeoutMs });
  try {
    await connection.withDeadline(Date.now() + timeoutMs, async () => {
      const ns = await connection.workflowService.describeNamespace({ namespace });
      const seconds = Math.round(retentionMs / 1000);
      if (Number(ns.config?.workflowExecutionRetentionTtl?.seconds ?? 0) !== seconds)
        await connection.workflowService.updateNamespace({ namespace, config: { workflowExecutionRetentionTtl: msToTs(seconds * 1000) } });
      const { customAttributes } = await connection.operatorService.listSearchAttributes({ namespace });
      const missing = Object.entries(SEARCH_ATTRIBUTES).filter(([name]) => !(name in (customAttributes ?? {})));
      if (missing.length > 0) {
        const searchAttributes = Object.fromEntries(missing.map(([name, type]) => [name, INDEXED_VALUE_TYPE[type]]));
        await connection.operatorService.addSearchAttributes({ namespace, searchAttributes });
      }
    });
  } finally {
    await connection.close();
  }
}

function tail(file: string, lines = 20): string {
  return tailLines(file, lines) || '(no log)';
}
