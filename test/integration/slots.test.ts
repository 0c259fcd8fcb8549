// Issue 23, item 11 (slots), on a real dev server and worker: with one activity slot
// (A2A_DEPLOY_MAX_ACTIVITIES=1) the first job's watch holds it for as long as the job runs, so a
// second job's agent stays "starting" while its start waits in Temporal's queue. `status` (table
// and --json) and a foreground `start` say that it is queued for a free slot, for how long, and
// which setting bounds it, instead of leaving the agent "starting" with no hint.
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { agentProcesses, ROOT, startStack, type Stack, waitFor } from './support/stack';

jest.setTimeout(120_000);
let stack: Stack;
let dir: string;
const JOBS = ['slot-a', 'slot-b'];

function jobFile(name: string, port: number): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `job: { name: ${name} }\nagents:\n  - id: solo\n    module: ${join(ROOT, 'test', 'fixtures', 'agents', 'flaky.js')}\n` +
      `    config: { port: ${port} }\ntopology: { type: mesh, agents: [solo] }\n`,
  );
  return file;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'a2a-slots-'));
  stack = await startStack(29533, 29633);
  stack.env.A2A_DEPLOY_MAX_ACTIVITIES = '1';
  await stack.startWorker();
});
afterAll(async () => {
  await Promise.all(JOBS.map((j) => stack.cliAsync(['stop', j, '--force'], { timeoutMs: 60_000 })));
  for (const pid of JOBS.flatMap(agentProcesses)) process.kill(pid, 'SIGKILL');
  await stack.close();
  rmSync(dir, { recursive: true, force: true });
});

test('a start queued behind a worker whose one slot is taken says so: status, status --json and start', async () => {
  expect(stack.cli(['start', jobFile('slot-a', 19861)]).code).toBe(0); // running: its watch holds the slot
  const start = stack.cliAsync(['start', jobFile('slot-b', 19862)], { timeoutMs: 20_000 }); // would wait for good
  const json = await waitFor(
    'the queued hint in status --json',
    () => {
      const r = stack.cli(['status', 'slot-b', '--json']);
      const s = r.code === 0 ? (JSON.parse(r.stdout) as { agents: Record<string, { state: string; waitingFor?: string }> }) : undefined;
      return s?.agents.solo?.waitingFor !== undefined && s;
    },
    30_000,
  );
  expect(json.agents.solo.state).toBe('starting');
  expect(json.agents.solo.waitingFor).toMatch(
    /^queued \d+ s for a free activity slot: the workers of task queue a2a-deploy run as many activities as they may \(A2A_DEPLOY_MAX_ACTIVITIES/,
  );
  expect(stack.cli(['status', 'slot-b']).stdout).toMatch(/solo +starting .* queued \d+ s for a free activity slot/);
  // The job that holds the slot has nothing queued.
  expect(stack.cli(['status', 'slot-a']).stdout).not.toContain('queued');
  const started = await start;
  expect(started.stdout).toMatch(/solo +starting: queued \d+ s for a free activity slot/);
  expect(agentProcesses('slot-b')).toEqual([]);
});
