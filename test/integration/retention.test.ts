// Retention on a real dev server: `delete` refuses a running job with the reason and removes a
// finished one (then `status` says not found), `prune --older-than` removes finished jobs older
// than that and never a running one, and the embedded namespace keeps runs A2A_DEPLOY_RETENTION.
import { Connection } from '@temporalio/client';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { JobManager, NotFoundError, RefusedError } from '../../src';
import { sleep } from '../../src/common/sleep';
import { agentProcesses, startStack, type Stack } from './support/stack';

jest.setTimeout(150_000);
let stack: Stack;
let dir: string;
let jm: JobManager;
const kept = 'keep-running';
const done = 'finished-early';

function jobFile(name: string, port: number): string {
  const file = join(dir, `${name}.yaml`);
  writeFileSync(
    file,
    `job: { name: ${name} }\nagents:\n  - { id: solo, module: a2a-deploy/agents/weather, config: { port: ${port} } }\ntopology: { type: mesh, agents: [solo] }\n`,
  );
  return file;
}

beforeAll(async () => {
  dir = mkdtempSync(join(tmpdir(), 'a2a-retention-'));
  // The stack's server is started in this process: it takes the retention from here.
  process.env.A2A_DEPLOY_RETENTION = '3d';
  stack = await startStack(26433, 26533);
  delete process.env.A2A_DEPLOY_RETENTION;
  await stack.startWorker();
  jm = new JobManager({ address: stack.address, home: stack.home });
});
afterAll(async () => {
  await jm?.close();
  for (const job of [kept, done]) stack.cli(['stop', job, '--force']);
  await stack.close();
  rmSync(dir, { recursive: true, force: true });
});

test('the embedded namespace keeps finished runs A2A_DEPLOY_RETENTION; a bad value is refused', async () => {
  const connection = await Connection.connect({ address: stack.address });
  try {
    const ns = await connection.workflowService.describeNamespace({ namespace: 'default' });
    expect(Number(ns.config?.workflowExecutionRetentionTtl?.seconds)).toBe(3 * 86_400);
  } finally {
    await connection.close();
  }
  const bad = stack.cli(['server', '--detach'], { env: { A2A_DEPLOY_RETENTION: '2h' } });
  expect(bad.code).toBe(2);
  expect(bad.stderr).toContain("A2A_DEPLOY_RETENTION '2h' is not a duration of at least 1d");
});

test('delete: refused while running (exit 2, with the reason); a finished job is removed, then unknown', async () => {
  expect(stack.cli(['start', jobFile(kept, 19510)]).code).toBe(0);
  expect(stack.cli(['start', jobFile(done, 19511)]).code).toBe(0);

  const refused = stack.cli(['delete', kept]);
  expect(refused.code).toBe(2);
  expect(refused.stderr).toContain(`job '${kept}' is running; only a finished job's runs can be deleted`);
  expect(refused.stderr).toContain(`hint: stop it first with \`a2a-deploy stop ${kept}\``);
  // The API says the same with a typed error.
  await expect(jm.delete(kept)).rejects.toEqual(expect.any(RefusedError));
  await expect(jm.delete(kept)).rejects.toMatchObject({ reason: `job '${kept}' is running` });

  expect(stack.cli(['stop', done]).code).toBe(0);
  expect(agentProcesses(done)).toEqual([]);
  const deleted = stack.cli(['delete', done]);
  expect(deleted.stdout).toBe(`Deleted job ${done}: 1 run removed from Temporal.\n`);
  expect(deleted.code).toBe(0);
  const gone = stack.cli(['status', done]);
  expect(gone.code).toBe(2);
  expect(gone.stderr).toContain(`no job named '${done}'`);
  await expect(jm.status(done)).rejects.toEqual(expect.any(NotFoundError));
  expect(stack.cli(['delete', done]).code).toBe(2);
});

test('prune: finished jobs older than --older-than go (dry run first); a running job stays', async () => {
  // A finished job again, under the same name: its new run.
  expect(stack.cli(['start', jobFile(done, 19511)]).code).toBe(0);
  expect(stack.cli(['stop', done]).code).toBe(0);

  const young = stack.cli(['prune', '--older-than', '1h']);
  expect(young.stdout).toBe('No finished job ended more than 1h ago.\n');
  await sleep(1500);
  const dry = JSON.parse(stack.cli(['prune', '--older-than', '1s', '--dry-run', '--json']).stdout);
  expect(dry).toMatchObject({ dryRun: true, jobs: [{ job: done, runs: 1 }] });
  expect(stack.cli(['status', done]).code).toBe(0); // a dry run removes nothing

  const pruned = stack.cli(['prune', '--older-than', '1s']);
  expect(pruned.code).toBe(0);
  expect(pruned.stdout).toMatch(new RegExp(`^Removed 1 job that ended more than 1s ago:\\nJOB +RUNS +ENDED\\n${done} +1 `));
  expect(stack.cli(['status', done]).code).toBe(2);
  const listed = JSON.parse(stack.cli(['list', '--all', '--json']).stdout) as { job: string }[];
  expect(listed.map((j) => j.job)).toEqual([kept]);
  expect(stack.cli(['prune']).stderr).toContain('prune needs --older-than DURATION');

  // The running job was never touched; stopped through the API while watched, then delete takes it.
  const phases: string[] = [];
  const watching = (async () => {
    for await (const r of jm.watch(kept, { intervalMs: 100 }))
      phases.push(r.source === 'workflow' ? r.status.phase : `server:${r.view.phase}`);
  })();
  await sleep(500);
  expect((await jm.stop(kept)).phase).toBe('stopped');
  await watching; // ends by itself once the workflow has closed
  expect(phases[0]).toBe('running');
  expect(phases[phases.length - 1]).toBe('stopped');
  expect(agentProcesses(kept)).toEqual([]);
  expect(stack.cli(['delete', kept, '--json']).stdout).toBe(`{"job":"${kept}","runs":1}\n`);
});
