// A private sshd on 127.0.0.1 (scripts/setup-sshd.sh) for the remote runner's tests: this
// machine plays the remote host, so the tests can look at the "remote" /proc directly.
import { spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { MARKER } from '../../../src/activities/markers';
import { createSshRunner, SshPool } from '../../../src/activities/ssh';
import type { AgentPlan } from '../../../src/job/plan';
import { listPids, procEnviron, procStat, scanProcesses } from '../../../src/process';

export { portOpen } from './stack';

/** The SSH runner with a pool of its own, as a worker would build it. */
const pool = new SshPool();
export const sshRunner = createSshRunner({ pool, serverMarker: 'ssh-runner-it' });
/** Open pooled connections (to see reuse). */
export const sshPoolSize = () => pool.size;
export const closeSshConnections = () => pool.closeAll();

export const ROOT = resolve(__dirname, '..', '..', '..');
const SETUP = join(ROOT, 'scripts', 'setup-sshd.sh');

export interface Sshd {
  dir: string;
  port: number;
  key: string;
  knownHosts: string;
  /** SHA256:... of the host key */
  fingerprint: string;
  /** successful logins so far (sshd's log), to count connections */
  logins(): number;
  /** the processes serving connections: descendants of this sshd's listener */
  sessions(): number[];
  stop(): void;
}

export function startSshd(dir: string, port: number): Sshd {
  const r = spawnSync('bash', [SETUP, dir, String(port)], { encoding: 'utf8', timeout: 300_000 });
  if (r.status !== 0) throw new Error(`setup-sshd.sh failed (${r.status}): ${r.stdout}\n${r.stderr}`);
  const field = (name: string) => {
    const m = new RegExp(`^${name}:\\s+(.*)$`, 'm').exec(r.stdout);
    if (!m) throw new Error(`setup-sshd.sh printed no '${name}': ${r.stdout}`);
    return m[1].trim();
  };
  return {
    dir,
    port,
    key: field('client key'),
    knownHosts: field('known_hosts'),
    fingerprint: field('host key'),
    logins: () => (readFileSync(join(dir, 'sshd.log'), 'utf8').match(/Accepted publickey/g) ?? []).length,
    sessions: () => {
      const listener = Number(readFileSync(join(dir, 'sshd.pid'), 'utf8'));
      const parentOf = (pid: number) => procStat(pid)?.ppid ?? 0;
      const descends = (pid: number): boolean => pid > 1 && (parentOf(pid) === listener || descends(parentOf(pid)));
      return listPids().filter((p) => descends(p));
    },
    stop: () => void spawnSync('bash', [SETUP, '--stop', dir], { encoding: 'utf8' }),
  };
}

/** Every live process (leader or not) whose environment carries this agent marker. */
export const markedProcesses = (marker: string): number[] => scanProcesses((env) => env[MARKER] === marker).map((p) => p.pid);

export function environOf(pid: number): Record<string, string> {
  const env = procEnviron(pid);
  if (!env) throw new Error(`no process ${pid}`);
  return env;
}

export const cmdlineOf = (pid: number) => readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').slice(0, -1);

/** Direct children of a process. */
export function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/** An agent plan for the remote target, as resolvePlan would make it. */
export function remoteAgent(
  sshd: Sshd,
  id: string,
  port: number,
  opts: {
    workdir: string;
    module?: string;
    command?: string[];
    args?: string[];
    env?: Record<string, string>;
    specHash?: string;
    stopGraceMs?: number;
    deployment?: Partial<AgentPlan['deployment']>;
  },
): AgentPlan {
  const url = `http://127.0.0.1:${port}`;
  return {
    id,
    target: 'remote',
    port,
    url,
    healthUrl: `${url}/health`,
    stage: 0,
    connectsTo: [],
    dependsOn: [],
    run: { ...(opts.module ? { module: opts.module } : {}), ...(opts.command ? { command: opts.command } : {}), args: opts.args ?? [] },
    env: {
      AGENT_HOST: '127.0.0.1',
      AGENT_ID: id,
      AGENT_PORT: String(port),
      AGENT_URL: url,
      CONNECTED_AGENTS: '',
      A2A_PEERS: '{}',
      A2A_JOB: 'sshit',
      ...opts.env,
    },
    health: { path: '/health', timeoutMs: 15_000, intervalMs: 100 },
    restart: { policy: 'never', maxRestarts: 0, windowMs: 60_000, backoffMs: 1000, maxBackoffMs: 1000 },
    stopGraceMs: opts.stopGraceMs ?? 5000,
    deployment: {
      host: '127.0.0.1',
      user: 'root',
      sshKey: sshd.key,
      sshPort: sshd.port,
      knownHosts: sshd.knownHosts,
      workdir: opts.workdir,
      node: 'node',
      pull: 'if-not-present',
      volumes: [],
      ...opts.deployment,
    },
    taskQueue: 'a2a-deploy',
    workerTimeoutMs: 60_000,
    baseDir: ROOT,
    specHash: opts.specHash ?? 'spec-1',
  };
}
