// The production-shaped cluster for these tests (scripts/production/cluster.sh: PostgreSQL,
// the Temporal server with a mutual-TLS frontend, the Web UI), the real CLI and real workers
// that connect to it with client certificates.
import { execFileSync, spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';

export const ROOT = resolve(__dirname, '..', '..', '..');
export const CLI = join(ROOT, 'bin', 'a2a-deploy.js');
const SCRIPT = join(ROOT, 'scripts', 'production', 'cluster.sh');
export const FRONTEND_PORT = 29233;
export const UI_PORT = 29080;

/** The caller's environment without any Temporal connection setting, so each test says its own. */
export function cleanEnv(): NodeJS.ProcessEnv {
  const env = { ...process.env };
  for (const k of Object.keys(env)) if (k.startsWith('TEMPORAL_') && k !== 'TEMPORAL_CLI') delete env[k];
  return env;
}

export interface Cluster {
  dir: string;
  frontend: string;
  /** the admin profile (temporal.toml) the setup wrote */
  profile: string;
  uiUrl: string;
  script(...args: string[]): string;
  serverPid(): number;
}

export function clusterUp(dir: string, frontendIp: string): Cluster {
  const script = (...args: string[]) =>
    execFileSync('bash', [SCRIPT, ...args], {
      env: { ...cleanEnv(), A2A_PROD_DIR: dir },
      encoding: 'utf8',
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: 1_200_000,
    });
  script('up', '--frontend-ip', frontendIp);
  return {
    dir,
    frontend: `${frontendIp}:${FRONTEND_PORT}`,
    profile: join(dir, 'temporal.toml'),
    uiUrl: `http://127.0.0.1:${UI_PORT}`,
    script,
    serverPid: () => Number(readFileSync(join(dir, 'temporal', 'server.pid'), 'utf8')),
  };
}

export interface Result {
  code: number;
  stdout: string;
  stderr: string;
}

export function cli(args: string[], env: NodeJS.ProcessEnv, timeoutMs = 180_000): Result {
  const r = spawnSync(process.execPath, [CLI, ...args], { env, cwd: ROOT, encoding: 'utf8', timeout: timeoutMs });
  return { code: r.status ?? -1, stdout: r.stdout, stderr: r.stderr };
}

/** `a2a-deploy worker [--host NAME]`, in a network namespace if given; resolves once it polls. */
export async function startWorker(env: NodeJS.ProcessEnv, host?: { name: string; netns: string }): Promise<ChildProcess> {
  const args = [CLI, 'worker', ...(host ? ['--host', host.name] : [])];
  const child = host
    ? spawn('ip', ['netns', 'exec', host.netns, process.execPath, ...args], { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] })
    : spawn(process.execPath, args, { env, cwd: ROOT, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  child.stdout!.on('data', (d) => (out += d));
  child.stderr!.on('data', (d) => (out += d));
  const deadline = Date.now() + 60_000;
  while (!/polling '/.test(out)) {
    if (child.exitCode !== null || Date.now() > deadline) throw new Error(`worker did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 100));
  }
  return child;
}

export async function stopProcess(child: ChildProcess | undefined, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (!child || child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise((r) => child.once('exit', r));
  child.kill(signal);
  await exited;
}
