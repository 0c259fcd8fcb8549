// A real Temporal dev server and a real worker for integration tests, each in its own
// state directory and ports, driven through the real CLI (node bin/a2a-deploy.js).
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { connect } from 'node:net';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { MARKER } from '../../../src/activities/markers';
import { sleep } from '../../../src/common/sleep';
import { scanProcesses } from '../../../src/process';
import { startDevServerDetached, stopDevServer } from '../../../src/temporal/dev-server';

export const ROOT = resolve(__dirname, '..', '..', '..');
export const CLI = join(ROOT, 'bin', 'a2a-deploy.js');

export interface Stack {
  home: string;
  env: NodeJS.ProcessEnv;
  address: string;
  /** the dev server's pid (the benchmark reads its CPU time) */
  serverPid: number;
  worker?: ChildProcess;
  /** everything the main worker printed so far (stdout and stderr) */
  workerOutput(): string;
  cli(args: string[], opts?: { timeoutMs?: number; env?: NodeJS.ProcessEnv }): { code: number; stdout: string; stderr: string };
  cliAsync(
    args: string[],
    opts?: { timeoutMs?: number; env?: NodeJS.ProcessEnv },
  ): Promise<{ code: number; stdout: string; stderr: string }>;
  startWorker(host?: { name: string; netns?: string; address?: string }): Promise<ChildProcess>;
  killWorker(signal?: NodeJS.Signals): Promise<void>;
  close(): Promise<void>;
}

export async function startStack(port: number, uiPort: number, opts: { ip?: string } = {}): Promise<Stack> {
  const home = mkdtempSync(join(tmpdir(), 'a2a-it-'));
  const server = await startDevServerDetached({ stateDir: home, port, uiPort, ...(opts.ip ? { ip: opts.ip } : {}) });
  const env: NodeJS.ProcessEnv = {
    ...process.env,
    A2A_DEPLOY_HOME: home,
    TEMPORAL_ADDRESS: server.address,
    TEMPORAL_UI_URL: `http://127.0.0.1:${uiPort}`,
    // Workers collect the agents of ended jobs every 30 s by default; tests that leave such
    // agents on purpose (gc's) must find them there. terminate.test.ts turns it back on.
    A2A_DEPLOY_COLLECT_EVERY: 'off',
  };
  let mainWorkerOut = '';
  const stack: Stack = {
    home,
    env,
    address: server.address,
    serverPid: server.pid,
    workerOutput: () => mainWorkerOut,
    cli(args, opts = {}) {
      const r = spawnSync(process.execPath, [CLI, ...args], {
        env: { ...env, ...opts.env },
        encoding: 'utf8',
        timeout: opts.timeoutMs ?? 120_000,
      });
      return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
    },
    cliAsync(args, opts = {}) {
      return new Promise((done) => {
        const child = spawn(process.execPath, [CLI, ...args], { env: { ...env, ...opts.env }, stdio: ['ignore', 'pipe', 'pipe'] });
        let stdout = '';
        let stderr = '';
        child.stdout.on('data', (d) => (stdout += d));
        child.stderr.on('data', (d) => (stderr += d));
        const timer = setTimeout(() => child.kill('SIGKILL'), opts.timeoutMs ?? 120_000);
        child.on('exit', (code) => (clearTimeout(timer), done({ code: code ?? -1, stdout, stderr })));
      });
    },
    async startWorker(host?: { name: string; netns?: string; address?: string }) {
      // A host worker runs in its own network namespace (its "machine") with its own state directory.
      // A2A_WORKER_NODE_ARGS (e.g. "--cpu-prof --cpu-prof-dir=/tmp/prof") goes to the worker's node
      // alone: node refuses profiler flags in NODE_OPTIONS, and agents must not inherit them.
      const nodeArgs = (process.env.A2A_WORKER_NODE_ARGS ?? '').split(' ').filter(Boolean);
      const args = [...nodeArgs, CLI, 'worker', ...(host ? ['--host', host.name] : [])];
      const child = host?.netns
        ? spawn('ip', ['netns', 'exec', host.netns, process.execPath, ...args], {
            env: { ...env, A2A_DEPLOY_HOME: join(home, `host-${host.name}`), ...(host.address ? { TEMPORAL_ADDRESS: host.address } : {}) },
            stdio: ['ignore', 'pipe', 'pipe'],
          })
        : spawn(process.execPath, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
      let out = '';
      const keep = (d: Buffer) => {
        out += d;
        if (!host) mainWorkerOut += d;
      };
      child.stdout!.on('data', keep);
      child.stderr!.on('data', keep);
      // The worker says so once it polls.
      const deadline = Date.now() + 30_000;
      while (!/polling '/.test(out)) {
        if (child.exitCode !== null || Date.now() > deadline) throw new Error(`worker did not start: ${out}`);
        await sleep(50);
      }
      if (!host) stack.worker = child;
      return child;
    },
    async killWorker(signal = 'SIGKILL') {
      const w = stack.worker;
      if (!w || w.exitCode !== null) return;
      const exited = new Promise((r) => w.once('exit', r));
      w.kill(signal);
      await exited;
      stack.worker = undefined;
    },
    async close() {
      await stack.killWorker('SIGTERM');
      await stopDevServer(home);
      rmSync(home, { recursive: true, force: true });
    },
  };
  return stack;
}

/** Live processes whose environment marks them as agents of `job` (by A2A_DEPLOY_AGENT). */
export const agentProcesses = (job: string): number[] =>
  scanProcesses((env) => env[MARKER]?.startsWith(`${job}/`) ?? false).map((p) => p.pid);

/** Whether something accepts TCP connections on 127.0.0.1:port. */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), done(true)));
    s.once('error', () => done(false));
  });
}

/** Polls `probe` until it returns something truthy (and returns that), or fails after a while. */
export async function waitFor<T>(what: string, probe: () => T | undefined | false, timeoutMs = 60_000): Promise<T> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    const v = probe();
    if (v) return v;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}`);
    await sleep(200);
  }
}
