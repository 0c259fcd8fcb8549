// A job's workflow terminated as the Web UI does it (here with the real `temporal workflow
// terminate`): `status` and `list` say terminated, never "running", with the agents' last known
// state and what is left; `start FILE` adopts the agents still running; and a worker with the
// default collection period removes them with no command typed, leaving a running job alone.
import { spawnSync, type ChildProcess } from 'node:child_process';
import { join } from 'node:path';
import { temporalBinary } from '../../src/temporal/dev-server';
import { agentProcesses, ROOT, startStack, type Stack, waitFor } from './support/stack';

jest.setTimeout(150_000);
let stack: Stack;
const job = 'terminated';
const fixture = (f: string) => join(ROOT, 'test', 'fixtures', 'jobs', f);

beforeAll(async () => {
  stack = await startStack(26633, 26733);
});
afterAll(async () => {
  for (const j of [job, 'bystander']) stack.cli(['stop', j, '--force']);
  await stack.close();
});

function terminate() {
  const r = spawnSync(
    temporalBinary(),
    ['workflow', 'terminate', '--workflow-id', `a2a-job-${job}`, '--reason', 'from a test', '--address', stack.address],
    { encoding: 'utf8', timeout: 30_000 },
  );
  expect(r.status).toBe(0);
}
const statusJson = () => JSON.parse(stack.cli(['status', job, '--json']).stdout);

test('after a terminate, status and list tell the truth, and start FILE adopts the agents left running', async () => {
  await stack.startWorker(); // collection off (the stack's default for tests), so the leftovers stay for this test
  expect(stack.cli(['start', fixture('terminated.yaml')]).code).toBe(0);
  const pids = agentProcesses(job).sort();
  expect(pids).toHaveLength(3);
  expect(statusJson()).toMatchObject({ execution: 'RUNNING', phase: 'running' });

  terminate();
  const s = stack.cli(['status', job]);
  expect(s.code).toBe(1);
  expect(s.stdout).toMatch(/^Job terminated: terminated; workflow terminated at .*; last recorded phase running/);
  expect(s.stdout).toMatch(/hub\s+healthy/); // the agents' last known state, from the memo
  expect(s.stdout).toContain('may still be running');
  expect(s.stdout).toContain('a2a-deploy gc');
  expect(s.stdout).toContain('On this machine 3 still run');
  const j = statusJson();
  expect(j).toMatchObject({ execution: 'TERMINATED', phase: 'terminated', lastPhase: 'running' });
  expect(Object.keys(j.agents).sort()).toEqual(['hub', 'left', 'right']);
  expect(j.leftover.onThisMachine).toHaveLength(3);

  const listed = JSON.parse(stack.cli(['list', '--all', '--json']).stdout).find((x: { job: string }) => x.job === job);
  expect(listed).toMatchObject({ phase: 'terminated', status: 'TERMINATED', priority: 'normal' });
  expect(stack.cli(['list']).stdout).not.toContain(job); // not running
  expect(stack.cli(['list', '--all']).stdout).toMatch(/terminated\s+terminated\s+normal\s+hub-spoke\s+terminated/);

  // start FILE again: the agents still running with the same spec are adopted, not restarted.
  const again = stack.cli(['start', fixture('terminated.yaml')]);
  expect(again.code).toBe(0);
  expect(again.stderr).toContain(
    'The last run of job terminated was terminated without its teardown: its agents still running with the same spec are adopted',
  );
  expect(agentProcesses(job).sort()).toEqual(pids);
  const after = statusJson();
  expect(after).toMatchObject({ execution: 'RUNNING', phase: 'running' });
  expect(
    Object.values(after.agents as Record<string, { pid: number }>)
      .map((a) => a.pid)
      .sort(),
  ).toEqual(pids);
});

test('a worker collects the agents of a terminated job within a minute, and leaves a running job alone', async () => {
  await stack.killWorker('SIGTERM');
  delete stack.env.A2A_DEPLOY_COLLECT_EVERY; // the default period
  const worker: ChildProcess = await stack.startWorker();
  let log = '';
  worker.stdout!.on('data', (d) => (log += d));
  expect(stack.cli(['start', fixture('bystander.yaml')]).code).toBe(0);
  const bystander = agentProcesses('bystander');
  expect(bystander).toHaveLength(1);
  expect(agentProcesses(job)).toHaveLength(3);

  terminate();
  const t0 = Date.now();
  await waitFor("the terminated job's agents collected", () => agentProcesses(job).length === 0, 65_000);
  const seconds = (Date.now() - t0) / 1000;
  expect(seconds).toBeLessThan(60);
  for (const a of ['hub', 'left', 'right'])
    expect(log).toMatch(new RegExp(`collected ${job}/${a} \\(pid \\d+\\): its job's workflow is terminated`));
  expect(agentProcesses('bystander')).toEqual(bystander); // running: never collected
  expect(statusJson().leftover.onThisMachine).toEqual([]);
  expect(stack.cli(['status', job]).stdout).toContain('None of them runs on this machine any more.');

  // stop of the terminated job says what happened, rather than only "not running".
  const stop = stack.cli(['stop', job]);
  expect(stop.stdout).toContain(`Job ${job} is not running: The workflow of job ${job} was terminated without its teardown`);
  expect(stop.stdout).toContain('Nothing of it runs on this machine.');
  process.stdout.write(`terminate test: agents collected ${seconds.toFixed(1)} s after the terminate\n`);
});
