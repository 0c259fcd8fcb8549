// A worker in the background (`worker --detach`, and the one the embedded mode starts): started
// with the flags it was given, reported started only once it is really up (registered, which it
// does after connecting, its metrics endpoint and its settings all checked), and reported failed
// with its own error when it dies first. The pid file of a live worker is never overwritten, so
// `worker --stop` always finds the worker that runs.
import { spawn } from 'node:child_process';
import { closeSync, existsSync, mkdirSync, openSync, readFileSync, readSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { sleep } from '../common/sleep';
import { homeDir, packageRoot } from '../config/paths';
import { isAlive, terminateProcess } from '../process';

/** The pid and log files of the main background worker, or of host worker `host`'s. */
export const workerPidFile = (home = homeDir(), host?: string) => join(home, host ? `worker-host-${host}.pid` : 'worker.pid');
export const workerLogFile = (home = homeDir(), host?: string) => join(home, host ? `worker-host-${host}.log` : 'worker.log');
/** Where a running worker registers itself (see registerLocalWorker). */
export const workerRegistration = (home: string, pid: number, host?: string) =>
  join(home, 'workers', `${pid}.${host ? `host-${host}` : 'main'}.pid`);

/** How long a detached worker may take to connect and register before it counts as failed. */
const STARTUP_MS = 60_000;

export interface DetachedOptions {
  home?: string;
  /** a host worker's name (its --host) */
  host?: string;
  /** the worker's other flags, passed on as given (--metrics, --log-format, --collect-every) */
  args?: string[];
  startupMs?: number;
}

export type DetachedStart =
  | { ok: true; pid: number; log: string }
  /** there is one already, alive: nothing was started */
  | { ok: false; running: number; log: string }
  /** it exited before it was up: its exit code and the last lines it wrote */
  | { ok: false; exitCode: number | null; output: string; log: string };

/** The worker the pid file names, if that process still runs and is an a2a-deploy worker. */
export function liveDetachedWorker(home = homeDir(), host?: string): number | undefined {
  let pid: number;
  try {
    pid = Number(readFileSync(workerPidFile(home, host), 'utf8'));
  } catch {
    return undefined;
  }
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid)) return undefined;
  // A pid reused by another program is not our worker (where /proc tells; elsewhere alive is enough).
  try {
    const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
    if (!argv.some((a) => a.endsWith('a2a-deploy.js')) || !argv.includes('worker')) return undefined;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== 'ENOENT' || existsSync('/proc/self')) return undefined;
  }
  return pid;
}

/** The text a file gained after `offset` (at most its last 4 KiB). */
function readFrom(file: string, offset: number): string {
  const size = statSync(file).size;
  const start = Math.max(offset, size - 4096);
  const buf = Buffer.alloc(Math.max(0, size - start));
  const fd = openSync(file, 'r');
  try {
    readSync(fd, buf, 0, buf.length, start);
  } finally {
    closeSync(fd);
  }
  return buf.toString('utf8');
}

/** Starts a background worker and waits until it is up or has died. */
export async function startWorkerDetached(opts: DetachedOptions = {}): Promise<DetachedStart> {
  const home = opts.home ?? homeDir();
  const log = workerLogFile(home, opts.host);
  const running = liveDetachedWorker(home, opts.host);
  if (running) return { ok: false, running, log };
  mkdirSync(home, { recursive: true });
  const fd = openSync(log, 'a');
  const offset = statSync(log).size;
  const args = [...(opts.host ? ['--host', opts.host] : []), ...(opts.args ?? [])];
  // `--` ends node's options (see bin/a2a-deploy.js): nothing in the arguments is node's.
  const child = spawn(process.execPath, ['--', join(packageRoot(), 'bin', 'a2a-deploy.js'), 'worker', ...args], {
    detached: true,
    stdio: ['ignore', fd, fd],
    env: { ...process.env, A2A_DEPLOY_HOME: home },
  });
  closeSync(fd);
  const pid = child.pid!;
  let exited: number | null | undefined;
  child.on('exit', (code) => (exited = code)); // null: killed by a signal
  writeFileSync(workerPidFile(home, opts.host), String(pid));
  const deadline = Date.now() + (opts.startupMs ?? STARTUP_MS);
  const registration = workerRegistration(home, pid, opts.host);
  try {
    while (exited === undefined && !existsSync(registration) && Date.now() < deadline) await sleep(50);
    if (exited === undefined && existsSync(registration)) return { ok: true, pid, log };
    if (exited === undefined) {
      // Neither up nor dead in time: stopped, so that nothing half-started is left behind.
      await terminateProcess(pid, { graceMs: 5000, pollMs: 100 });
      return {
        ok: false,
        exitCode: null,
        output: `${readFrom(log, offset)}(not up within ${(opts.startupMs ?? STARTUP_MS) / 1000} s; stopped)`,
        log,
      };
    }
    return { ok: false, exitCode: exited, output: readFrom(log, offset), log };
  } finally {
    child.unref();
    if (exited !== undefined && readFileSync(workerPidFile(home, opts.host), 'utf8') === String(pid))
      rmSync(workerPidFile(home, opts.host), { force: true });
  }
}

/** Stops the background worker: SIGTERM (it finishes its shutdown), SIGKILL after 10 s. */
export async function stopWorkerDetached(home = homeDir(), host?: string): Promise<boolean> {
  const pid = liveDetachedWorker(home, host);
  // It leads its own process group (started detached); its agents lead theirs and keep running.
  if (pid) await terminateProcess(pid, { graceMs: 10_000, pollMs: 100 });
  rmSync(workerPidFile(home, host), { force: true });
  return pid !== undefined;
}
