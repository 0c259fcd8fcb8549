// Resource limits end to end, on a real dev server and worker and the real kernel: an agent
// killed at its memory limit is restarted, and `status` says why in the words of the issue
// (`killed: out of memory (limit 128m, peak ...)`) as its lastError, in the table and in --json;
// a healthy agent with limits shows its usage; the worker's /metrics has the usage and kill
// series; stop leaves no group behind.
import { existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { cgroupLayout, SUBTREE } from '../../src/process/cgroups';
import type { JobStatus } from '../../src/workflows/api';
import { agentProcesses, ROOT, startStack, waitFor, type Stack } from './support/stack';

jest.setTimeout(180_000);
const JOB = 'limits-stack';
const METRICS = '127.0.0.1:29390';
const HOG = join(ROOT, 'test', 'fixtures', 'agents', 'hog.js');
let stack: Stack;
let dir: string;

const JOB_FILE = `job: { name: ${JOB} }
agents:
  - id: calm
    module: ${HOG}
    config: { port: 29301 }
    deployment: { memory: 128m, cpus: 0.5, pids: 64, environment: { HOG: none } }
  - id: hog
    module: ${HOG}
    config: { port: 29302 }
    deployment: { memory: 128m, environment: { HOG: memory, HOG_AFTER_MS: 2000 } }
    restart: { policy: on-failure, max_restarts: 20, backoff: 1s, max_backoff: 1s }
topology: { type: mesh, agents: [calm, hog] }
`;

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'a2a-limits-stack-'));
  writeFileSync(join(dir, 'limits.yaml'), JOB_FILE);
  stack = await startStack(29033, 29133);
  Object.assign(stack.env, { A2A_DEPLOY_METRICS: METRICS });
  await stack.startWorker();
});
afterAll(async () => {
  stack?.cli(['stop', JOB, '--force']);
  await stack?.close();
  for (const pid of agentProcesses(JOB)) {
    try {
      process.kill(-pid, 'SIGKILL');
    } catch {
      /* gone */
    }
  }
  rmSync(dir, { recursive: true, force: true });
});

const status = () => JSON.parse(stack.cli(['status', JOB, '--json']).stdout) as JobStatus;

/** This job's groups in any hierarchy (whatever the server's key). */
function groupsLeft(): string[] {
  const layout = cgroupLayout();
  if (layout.version !== 1) throw new Error('this test expects cgroup v1, as on this kind of machine');
  const out: string[] = [];
  for (const m of new Set(Object.values(layout.mounts))) {
    const base = join(m!, SUBTREE);
    // A cgroup folder holds the kernel's files beside its child groups: the servers' folders are s-<hash>.
    for (const s of existsSync(base) ? readdirSync(base).filter((n) => /^s-[0-9a-f]+$/.test(n)) : [])
      for (const g of readdirSync(join(base, s))) if (g.startsWith(`${JOB}.`)) out.push(join(base, s, g));
  }
  return out;
}

test('an agent killed at its memory limit is restarted, and status says why: killed: out of memory (limit, peak)', async () => {
  const start = stack.cli(['start', join(dir, 'limits.yaml')]);
  expect(start.code).toBe(0);
  const s = await waitFor('a restart after an out-of-memory kill', () => {
    const st = status();
    return st.agents.hog.restarts >= 1 && st.agents.hog.lastError ? st : undefined;
  });
  expect(s.agents.hog.lastError!.split('\n')[0]).toMatch(/^agent 'hog' killed: out of memory \(limit 128m, peak 12[0-9]m\)$/);
  const table = stack.cli(['status', JOB]).stdout;
  expect(table).toMatch(/hog .* agent 'hog' killed: out of memory \(limit 128m, peak 12[0-9]m\) \(at /);
  // The healthy agent with limits: its usage, read from its groups, in --json and the table.
  expect(s.agents.calm.usage).toMatchObject({ mechanism: 'cgroup v1', memoryLimitBytes: 128 * 2 ** 20 });
  expect(s.agents.calm.usage!.memoryBytes).toBeGreaterThan(1024 ** 2);
  expect(table).toMatch(/calm .*mem \d+m\/128m \(peak \d+m\), cpu \d+\.\ds, pids \d+ \(cgroup v1\)/);
});

test("the worker's /metrics has the kill and the usage series", async () => {
  let metrics = '';
  for (let i = 0; i < 60; i++) {
    metrics = await (await fetch(`http://${METRICS}/metrics`)).text();
    if (/a2a_agent_memory_bytes\{job="limits-stack",agent="calm"\} \d+/.test(metrics)) break;
    await new Promise((r) => setTimeout(r, 500));
  }
  expect(metrics).toMatch(/a2a_agent_oom_kills_total\{job="limits-stack",agent="hog",target="localhost"\} [1-9]/);
  expect(metrics).toMatch(/a2a_agent_memory_bytes\{job="limits-stack",agent="calm"\} \d+/);
  expect(metrics).toMatch(/a2a_agent_memory_limit_bytes\{job="limits-stack",agent="calm"\} 134217728/);
  expect(metrics).toMatch(/a2a_agent_cpu_seconds_total\{job="limits-stack",agent="calm"\} [\d.]+/);
});

test('stop leaves neither agents nor groups', async () => {
  expect(groupsLeft().length).toBeGreaterThan(0);
  expect(stack.cli(['stop', JOB]).code).toBe(0);
  await waitFor('the job stopped', () => status().phase === 'stopped' || undefined);
  expect(agentProcesses(JOB)).toEqual([]);
  expect(groupsLeft()).toEqual([]);
});
