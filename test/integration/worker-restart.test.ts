// Issue 23, item 11 (lastErrorAt): an agent that exits while no worker runs is found gone by the
// next worker, and restarted; `status` then says when its exit was detected. The issue saw a time
// five minutes before the detection (12:34:34 for an exit detected at 12:39:58). Here the worker
// stops (by SIGKILL, and gracefully by SIGTERM), the agent is killed a few seconds later, the
// worker comes back a few seconds after that, and the restart's lastErrorAt must fall between the
// kill and now: never before the agent died.
import { writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { JobStatus } from '../../src/workflows/api';
import { agentProcesses, ROOT, startStack, type Stack, waitFor } from './support/stack';

jest.setTimeout(150_000);
let stack: Stack;
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
const status = (job: string): JobStatus => JSON.parse(stack.cli(['status', job, '--json']).stdout);
const JOBS = ['restart-kill', 'restart-term'];

beforeAll(async () => {
  stack = await startStack(29933, 30033);
  await stack.startWorker();
});
afterAll(async () => {
  for (const job of JOBS) stack.cli(['stop', job, '--force'], { timeoutMs: 30_000 });
  for (const pid of JOBS.flatMap(agentProcesses)) process.kill(pid, 'SIGKILL');
  await stack.close();
});

test.each([
  ['restart-kill', 'SIGKILL', 19866],
  ['restart-term', 'SIGTERM', 19867],
] as const)(
  '%s: an agent that died while the worker was down (%s) is restarted with the time its exit was found',
  async (job, signal, port) => {
    const file = join(stack.home, `${job}.yaml`);
    writeFileSync(
      file,
      `job: { name: ${job} }\nagents:\n  - id: solo\n    module: ${join(ROOT, 'test', 'fixtures', 'agents', 'flaky.js')}\n` +
        `    config: { port: ${port} }\n    restart: { policy: always }\ntopology: { type: mesh, agents: [solo] }\n`,
    );
    expect(stack.cli(['start', file]).code).toBe(0);
    const before = status(job).agents.solo;
    expect(before.lastErrorAt).toBeUndefined();
    // Long enough apart that a time from before the kill, or from the worker's stop, shows.
    await sleep(4000);
    await stack.killWorker(signal);
    await sleep(4000);
    const killedAt = Date.now();
    process.kill(before.pid!, 'SIGKILL');
    await sleep(6000);
    const backAt = Date.now();
    await stack.startWorker();
    const after = await waitFor(
      'the agent restarted',
      () => {
        const a = status(job).agents.solo;
        return a.state === 'healthy' && a.restarts === 1 && a;
      },
      60_000,
    );
    const at = Date.parse(after.lastErrorAt!);
    process.stdout.write(
      `${job}: killed at ${new Date(killedAt).toISOString()}, worker back at ${new Date(backAt).toISOString()}, lastErrorAt ${after.lastErrorAt}\n`,
    );
    expect(after.lastError).toContain("agent 'solo'");
    // Found gone by the worker that came back: not before it came back (1 s for clocks' rounding).
    expect(at).toBeGreaterThanOrEqual(backAt - 1000);
    expect(at).toBeLessThanOrEqual(Date.parse(after.since));
    // The status table says the same time.
    expect(stack.cli(['status', job]).stdout).toContain(`(at ${after.lastErrorAt!.replace('T', ' ').replace(/\.\d+Z$/, 'Z')})`);
  },
);
