// Scale smoke (issue: a 201-agent job stopped deploying when the port checks walked every
// process's fd table per agent and starved the worker until its heartbeats missed). A 201-agent
// hub and 20 jobs of 10 agents (400 Node processes booting on the machine's cores) deploy at once
// through the real CLI, every agent becomes healthy, and after stop nothing of them is left running. It
// asserts success and cleanup, never a time: the benchmark (npm run bench) measures speed.
// Under this load workflow tasks time out on the sticky queue and run again elsewhere, so every
// job's history is replayed against the workflow code at the end: a workflow whose commands
// depend on anything but its history (TMPRL1100 nondeterminism) fails here.
import { Client, Connection } from '@temporalio/client';
import { historyToJSON } from '@temporalio/common/lib/proto-utils';
import { Worker } from '@temporalio/worker';
import { spawn, type ChildProcess } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { payloadCodecsFor } from '../../src/temporal/codec';
import { hubSpoke, shapedDag, writeJob } from '../../bench/lib/topologies';
import type { JobStatus } from '../../src/workflows/api';
import { agentProcesses, startStack, type Stack } from '../integration/support/stack';

jest.setTimeout(600_000);

let stack: Stack;
let work: string;
const HUB = 'smoke-hub';
const SMALL = Array.from({ length: 20 }, (_, j) => `smoke-dag-${String(j).padStart(2, '0')}`);
const JOBS = [HUB, ...SMALL];

// One core kept busy the whole time: a deployer must hold on a busy machine, and the heartbeat
// regression this guards against (13x the worker's CPU) only showed when the machine was.
let hog: ChildProcess | undefined;

beforeAll(async () => {
  hog = spawn(process.execPath, ['-e', 'for (;;) {}'], { stdio: 'ignore' });
  stack = await startStack(27633, 28633);
  await stack.startWorker();
  work = mkdtempSync(join(tmpdir(), 'a2a-smoke-'));
});

afterAll(async () => {
  // Whatever a failed test left: stopped by force, so the next file starts clean.
  await Promise.all(JOBS.map((job) => stack.cliAsync(['stop', job, '--force'], { timeoutMs: 120_000 })));
  await stack.close();
  hog?.kill('SIGKILL');
  rmSync(work, { recursive: true, force: true });
});

test('a 201-agent job and 20 jobs of 10 agents deploy at once, and stop leaving nothing', async () => {
  const files = [
    writeJob(work, HUB, hubSpoke(200), { delayMs: 100, firstPort: 32000 }),
    ...SMALL.map((job, j) => writeJob(work, job, shapedDag([1, 3, 6]), { delayMs: 100, firstPort: 32300 + j * 10 })),
  ];

  const started = await Promise.all(files.map((f) => stack.cliAsync(['start', f], { timeoutMs: 420_000 })));
  for (const [i, r] of started.entries())
    expect({ job: JOBS[i], code: r.code, err: r.stderr.slice(-2000) }).toEqual({ job: JOBS[i], code: 0, err: expect.any(String) });

  for (const job of JOBS) {
    const status = JSON.parse(stack.cli(['status', job, '--json']).stdout) as JobStatus;
    const agents = Object.values(status.agents);
    expect({ job, phase: status.phase, count: agents.length }).toEqual({ job, phase: 'running', count: job === HUB ? 201 : 10 });
    expect(agents.filter((a) => a.state !== 'healthy' || !a.pid).map((a) => `${a.id}: ${a.state}`)).toEqual([]);
    expect(agentProcesses(job)).toHaveLength(agents.length);
  }

  const stopped = await Promise.all(JOBS.map((job) => stack.cliAsync(['stop', job], { timeoutMs: 300_000 })));
  const histories = await fetchHistories();
  for (const [i, r] of stopped.entries())
    expect({ job: JOBS[i], code: r.code, out: r.code ? r.stdout + r.stderr : '' }).toEqual({ job: JOBS[i], code: 0, out: '' });
  for (const job of JOBS) {
    expect({ job, left: agentProcesses(job) }).toEqual({ job, left: [] });
    const status = JSON.parse(stack.cli(['status', job, '--json']).stdout) as JobStatus;
    expect({ job, phase: status.phase }).toEqual({ job, phase: 'stopped' });
  }

  expect(stack.workerOutput().match(/.*(TMPRL1100|[Nn]ondeterminism).*/g) ?? []).toEqual([]);
  const replayed: string[][] = [];
  for await (const r of Worker.runReplayHistories(
    { workflowsPath: require.resolve('../../src/workflows'), dataConverter: { payloadCodecs: payloadCodecsFor(undefined) } },
    histories,
  ))
    replayed.push([r.workflowId, r.error ? String(r.error) : 'ok']);
  expect(replayed).toEqual(JOBS.map((job) => [job, 'ok']));
});

/** Every job's history, also written to $A2A_SMOKE_HISTORIES (a folder) when set, to study a failure. */
async function fetchHistories() {
  const connection = await Connection.connect({ address: stack.address });
  try {
    const client = new Client({ connection });
    const histories = await Promise.all(
      JOBS.map(async (job) => ({ workflowId: job, history: await client.workflow.getHandle(`a2a-job-${job}`).fetchHistory() })),
    );
    const dir = process.env.A2A_SMOKE_HISTORIES;
    if (dir) {
      mkdirSync(dir, { recursive: true });
      for (const h of histories) writeFileSync(join(dir, `${h.workflowId}.json`), historyToJSON(h.history));
    }
    return histories;
  } finally {
    await connection.close();
  }
}
