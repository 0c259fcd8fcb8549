// A private sshd on 127.0.0.1 (scripts/setup-sshd.sh) for the remote runner's tests: this
// machine plays the remote host, so the tests can look at the "remote" /proc directly.
import { spawnSync } from 'node:child_process';
import { readdirSync, readFileSync } from 'node:fs';
import { connect } from 'node:net';
import { join, resolve } from 'node:path';
import type { AgentPlan } from '../../../src/job/plan';

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
      const parentOf = (pid: number) => {
        try {
          const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
          return Number(stat.slice(stat.lastIndexOf(')') + 2).split(' ')[1]);
        } catch {
          return 0;
        }
      };
      const descends = (pid: number): boolean => pid > 1 && (parentOf(pid) === listener || descends(parentOf(pid)));
      return readdirSync('/proc')
        .filter((p) => /^\d+$/.test(p))
        .map(Number)
        .filter((p) => descends(p));
    },
    stop: () => void spawnSync('bash', [SETUP, '--stop', dir], { encoding: 'utf8' }),
  };
}

/** Every process (leader or not) whose environment carries this agent marker. */
export function markedProcesses(marker: string): number[] {
  const found: number[] = [];
  for (const name of readdirSync('/proc')) {
    if (!/^\d+$/.test(name)) continue;
    try {
      if (readFileSync(`/proc/${name}/environ`, 'utf8').split('\0').includes(`A2A_DEPLOY_AGENT=${marker}`)) found.push(Number(name));
    } catch {
      /* gone, or a kernel thread */
    }
  }
  return found;
}

export function environOf(pid: number): Record<string, string> {
  const env: Record<string, string> = {};
  for (const entry of readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')) {
    const eq = entry.indexOf('=');
    if (eq > 0) env[entry.slice(0, eq)] = entry.slice(eq + 1);
  }
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

/** Does something accept connections on 127.0.0.1:port? */
export function portOpen(port: number): Promise<boolean> {
  return new Promise((done) => {
    const s = connect({ host: '127.0.0.1', port });
    s.once('connect', () => (s.destroy(), done(true)));
    s.once('error', () => done(false));
  });
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
