// The job's signals and the payload-less stop update, sent as the Web UI sends them (here with
// the real `temporal` CLI) to a really deployed job: pause, a refused second pause kept in the
// status, resume, stop with {"force": true} as a signal, and `update execute --name stop` with
// no input, which stops gracefully. The real processes are counted afterwards.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { temporalBinary } from '../../src/temporal/dev-server';
import type { JobStatus } from '../../src/workflows/api';
import { agentProcesses, ROOT, startStack, type Stack, waitFor } from './support/stack';

jest.setTimeout(180_000);
let stack: Stack;
const job = 'simple-weather';
beforeAll(async () => {
  stack = await startStack(27733, 28733);
  await stack.startWorker();
});
afterAll(async () => {
  stack.cli(['stop', job, '--force']);
  await stack.close();
});

const status = (): JobStatus => JSON.parse(stack.cli(['status', job, '--json']).stdout);
/** `temporal workflow signal|update execute --workflow-id a2a-job-JOB --name NAME [--input JSON]` */
function temporal(kind: 'signal' | 'update', name: string, input?: string) {
  const args = [
    'workflow',
    ...(kind === 'signal' ? ['signal'] : ['update', 'execute']),
    '--workflow-id',
    `a2a-job-${job}`,
    '--name',
    name,
    ...(input !== undefined ? ['--input', input] : []),
    '--address',
    stack.address,
  ];
  const r = spawnSync(temporalBinary(), args, { encoding: 'utf8', timeout: 60_000 });
  return { code: r.status, out: `${r.stdout}${r.stderr}` };
}

test('pause, pause again (refused, kept in the status), resume and a forced stop, as signals', async () => {
  expect(stack.cli(['start', join(ROOT, 'jobs', 'examples', 'simple-weather.yaml')]).code).toBe(0);
  expect(temporal('signal', 'pause').code).toBe(0);
  await waitFor('paused', () => status().paused);
  expect(temporal('signal', 'pause').code).toBe(0); // a signal cannot be refused to the sender ...
  const refused = await waitFor('refusal recorded', () => status().refused);
  expect(refused).toMatchObject({ action: 'pause signal', reason: `job ${job} is already paused` }); // ... so the job says why
  expect(temporal('signal', 'resume').code).toBe(0);
  await waitFor('resumed', () => !status().paused);
  expect(agentProcesses(job)).toHaveLength(3);
  expect(temporal('signal', 'stop', '{"force": true}').code).toBe(0);
  await waitFor('stopped', () => status().phase === 'stopped', 60_000);
  expect(agentProcesses(job)).toEqual([]);
});

test('`update execute --name stop` with no input stops gracefully', async () => {
  expect(stack.cli(['start', join(ROOT, 'jobs', 'examples', 'simple-weather.yaml')]).code).toBe(0);
  expect(agentProcesses(job)).toHaveLength(3);
  const r = temporal('update', 'stop');
  expect(r.code).toBe(0);
  expect(r.out).toContain('running'); // the update's answer: the phase it was accepted in
  await waitFor('stopped', () => status().phase === 'stopped', 60_000);
  expect(agentProcesses(job)).toEqual([]);
  // Graceful: each agent got SIGTERM and logged its own shutdown.
  expect(stack.cli(['logs', job, '--tail', '100']).stdout).toMatch(/shutting down|SIGTERM/i);
});
