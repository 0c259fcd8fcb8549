// Two installations on one machine (issue 23, item 1): home A deploys a job, then its worker and
// server stop while the agents keep running; home B starts its own dev server on the same port
// (another database) and a worker collecting every second. B's worker must never take A's agents
// for leftovers (to B their job is unknown, which says nothing about A), and it still collects the
// agents of B's own ended job.
import { spawnSync } from 'node:child_process';
import { join } from 'node:path';
import { stopDevServer, temporalBinary } from '../../src/temporal/dev-server';
import { isAlive } from '../../src/process';
import { agentProcesses, ROOT, startStack, type Stack, waitFor } from './support/stack';

jest.setTimeout(180_000);
const fixture = (f: string) => join(ROOT, 'test', 'fixtures', 'jobs', f);
const PORT = 26661;
let a: Stack | undefined;
let b: Stack | undefined;
let pidsA: number[] = [];

afterAll(async () => {
  b?.cli(['stop', 'bystander', '--force']);
  await b?.close();
  for (const pid of pidsA) if (isAlive(pid)) process.kill(pid, 'SIGKILL');
  await a?.close();
});

test("a worker of another home on the same server address never collects this home's running agents", async () => {
  a = await startStack(PORT, 26761);
  await a.startWorker();
  expect(a.cli(['start', fixture('terminated.yaml')]).code).toBe(0);
  pidsA = agentProcesses('terminated').sort();
  expect(pidsA).toHaveLength(3);
  await a.killWorker('SIGTERM');
  await stopDevServer(a.home);

  b = await startStack(PORT, 26762);
  b.env.A2A_DEPLOY_COLLECT_EVERY = '1s';
  const worker = await b.startWorker();
  let out = '';
  worker.stdout!.on('data', (d) => (out += d));
  worker.stderr!.on('data', (d) => (out += d));
  expect(b.cli(['start', fixture('bystander.yaml')]).code).toBe(0);
  const pidsB = agentProcesses('bystander');
  expect(pidsB).toHaveLength(1);
  const t = spawnSync(temporalBinary(), ['workflow', 'terminate', '--workflow-id', 'a2a-job-bystander', '--address', b.address], {
    encoding: 'utf8',
    timeout: 30_000,
  });
  expect(t.status).toBe(0);
  // B's own ended job is collected by B's loop...
  await waitFor('B collects its own ended job', () => pidsB.every((p) => !isAlive(p)), 30_000);
  expect(out).toContain('collected bystander/');
  // ...and after a few more rounds A's agents still run, untouched.
  await new Promise((r) => setTimeout(r, 4000));
  expect(pidsA.filter((p) => isAlive(p))).toEqual(pidsA);
  expect(out).not.toContain('collected terminated/');
});
