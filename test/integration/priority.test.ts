// job.priority is Temporal task priority. A worker with 4 activity slots (A2A_DEPLOY_MAX_ACTIVITIES)
// is saturated by a low-priority job of 4 agents that take 8, 10, 12 and 14 s to start; two more
// low-priority jobs queue behind it, then a critical job is submitted last. As slots free one by
// one, the critical job's agents start before the low-priority agents that were waiting. Start
// times are the agents' own: the worker's pid record, written when it spawned each one.
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentDir } from '../../src/config/paths';
import { agentProcesses, ROOT, startStack, type Stack, waitFor } from './support/stack';

jest.setTimeout(150_000);
let stack: Stack;
let dir: string;
const jobs = ['blocker', 'low-b', 'low-c', 'urgent'];

/** A mesh (one stage: every agent starts at once) of agents taking delaysMs to start, on ports from firstPort. */
function jobFile(name: string, priority: string, firstPort: number, delaysMs: number[]): string {
  const file = join(dir, `${name}.yaml`);
  const ids = delaysMs.map((_, i) => `a${i + 1}`);
  const agents = delaysMs
    .map(
      (delay, i) =>
        `  - id: ${ids[i]}\n    module: ${join(ROOT, 'test', 'fixtures', 'agents', 'flaky.js')}\n    config: { port: ${firstPort + i} }\n` +
        `    deployment:\n      environment: { DELAY_MS: ${delay} }\n`,
    )
    .join('');
  writeFileSync(
    file,
    `job:\n  name: ${name}\n  priority: ${priority}\nagents:\n${agents}topology:\n  type: mesh\n  agents: [${ids.join(', ')}]\n`,
  );
  return file;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'a2a-priority-'));
  stack = await startStack(26633, 26733);
  stack.env.A2A_DEPLOY_MAX_ACTIVITIES = '4';
  await stack.startWorker();
});
afterAll(async () => {
  await Promise.all(jobs.map((j) => stack.cliAsync(['stop', j, '--force'])));
  await stack.close();
  rmSync(dir, { recursive: true, force: true });
});

/** When the worker spawned the agent (its pid record), in ms. */
const spawnedAt = (job: string, agent: string): number | undefined => {
  try {
    return Date.parse(JSON.parse(readFileSync(join(agentDir(job, agent, stack.home), 'agent.pid.json'), 'utf8')).startedAt);
  } catch {
    return undefined;
  }
};

test('on a saturated worker, a critical job submitted last starts before the low-priority agents waiting', async () => {
  expect(stack.cli(['start', '--detach', jobFile('blocker', 'low', 19610, [8000, 10000, 12000, 14000])]).code).toBe(0);
  await waitFor('the blocker holding all 4 slots', () => agentProcesses('blocker').length === 4, 30_000);
  const queued = await Promise.all([
    stack.cliAsync(['start', '--detach', jobFile('low-b', 'low', 19620, [2000, 2000])]),
    stack.cliAsync(['start', '--detach', jobFile('low-c', 'low', 19630, [2000, 2000])]),
  ]);
  for (const r of queued) expect(r.code).toBe(0);
  const t0 = Date.now();
  expect(stack.cli(['start', '--detach', jobFile('urgent', 'critical', 19640, [500, 500])]).code).toBe(0);
  // Saturated: when the critical job came, the other low-priority agents were still waiting.
  const waiting = ['low-b', 'low-c'].flatMap((job) => ['a1', 'a2'].map((agent) => ({ job, agent })));
  expect(waiting.filter((x) => spawnedAt(x.job, x.agent) !== undefined)).toEqual([]);
  expect(spawnedAt('blocker', 'a1')! + 8000).toBeGreaterThan(Date.now()); // and no slot had freed yet

  await waitFor('every agent up', () => jobs.flatMap(agentProcesses).length === 10, 90_000);
  const urgent = ['a1', 'a2'].map((a) => spawnedAt('urgent', a)!);
  const late = waiting.map((x) => spawnedAt(x.job, x.agent)!);
  // First come, first served would have started the four waiting low-priority agents first.
  expect(Math.max(...urgent)).toBeLessThan(Math.min(...late));
  const secs = (ts: number[]) => ts.map((t) => ((t - t0) / 1000).toFixed(1)).join(', ');
  process.stdout.write(
    `priority test: after the critical job's submit, its agents started at ${secs(urgent)} s, the waiting low ones at ${secs(late)} s\n`,
  );

  // list shows each job's priority.
  const listed: { job: string; priority: string }[] = JSON.parse(stack.cli(['list', '--json']).stdout);
  expect(Object.fromEntries(listed.map((j) => [j.job, j.priority]))).toEqual({
    blocker: 'low',
    'low-b': 'low',
    'low-c': 'low',
    urgent: 'critical',
  });
  expect(stack.cli(['list']).stdout).toMatch(/urgent\s+\w+\s+critical\s+mesh/);
  // ... and filters on it, and on the name's prefix.
  const names = (args: string[]) =>
    (JSON.parse(stack.cli(['list', '--json', ...args]).stdout) as { job: string }[]).map((j) => j.job).sort();
  expect(names(['--priority', 'critical'])).toEqual(['urgent']);
  expect(names(['--priority', 'low', '--prefix', 'low-'])).toEqual(['low-b', 'low-c']);
  expect(names(['--topology', 'pipeline'])).toEqual([]);
  const bad = stack.cli(['list', '--priority', 'urgent']);
  expect(bad.code).toBe(2);
});
