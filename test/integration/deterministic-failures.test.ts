// Failures no retry can fix fail on the first attempt, in words that name the agent (issue 10,
// defect 8): a NUL byte and values too large for the OS, which only the worker sees (they come
// from secrets read at start), a missing workdir (which spawn words as "spawn node ENOENT", like
// a missing command), and a missing command. Before, each was retried five times.
import { Client, Connection } from '@temporalio/client';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { JobStatus } from '../../src/workflows/api';
import { agentProcesses, startStack, type Stack } from './support/stack';

jest.setTimeout(120_000);
let stack: Stack;
let dir: string;
const JOB = 'det-fail';

beforeAll(async () => {
  stack = await startStack(26033, 26133);
  await stack.startWorker();
  dir = mkdtempSync(join(tmpdir(), 'a2a-det-'));
  mkdirSync(join(dir, 'secrets'));
  writeFileSync(join(dir, 'secrets', 'nul'), 'abc\u0000def');
  writeFileSync(join(dir, 'secrets', 'big'), 'x'.repeat(200 * 1024));
  writeFileSync(join(dir, 'secrets', 'chunk'), 'y'.repeat(120 * 1024));
  const many = Array.from({ length: 20 }, (_, i) => `V${i}: file:secrets/chunk`).join(', ');
  // A mesh: no agent waits for another, so every one of them is tried.
  writeFileSync(
    join(dir, 'job.yaml'),
    `job: { name: ${JOB} }
agents:
  - id: b
    module: a2a-deploy/agents/weather
    config: { port: 19400 }
    deployment: { secrets: { TOKEN: file:secrets/nul } }
  - id: big
    module: a2a-deploy/agents/weather
    config: { port: 19401 }
    deployment: { secrets: { BIG: file:secrets/big } }
  - id: many
    module: a2a-deploy/agents/weather
    config: { port: 19402 }
    deployment: { secrets: { ${many} } }
  - id: w
    module: a2a-deploy/agents/weather
    config: { port: 19403 }
    deployment: { workdir: ./no-such-folder }
  - id: c
    command: [a2a-no-such-command]
    config: { port: 19404 }
topology: { type: mesh, agents: [b, big, many, w, c] }
`,
  );
});
afterAll(async () => {
  stack.cli(['stop', JOB, '--force']);
  await stack.close();
  rmSync(dir, { recursive: true, force: true });
});

test('each fails on its first attempt with a message naming the agent', async () => {
  const t0 = Date.now();
  const r = stack.cli(['start', join(dir, 'job.yaml')]);
  const seconds = (Date.now() - t0) / 1000;
  expect(r.code).toBe(1);
  expect(r.stderr).toMatch(/agent '(b|big|many|w|c)' cannot be started: /);
  expect(agentProcesses(JOB)).toEqual([]);

  const status = JSON.parse(stack.cli(['status', JOB, '--json']).stdout) as JobStatus;
  expect(status.phase).toBe('failed');
  const errors = Object.fromEntries(Object.entries(status.agents).map(([id, a]) => [id, `${a.state}: ${a.lastError}`]));
  expect(errors).toEqual({
    b: "failed: agent 'b' cannot be started: environment variable TOKEN holds a NUL byte (at character 4), which no program can receive in its arguments or environment",
    big: "failed: agent 'big' cannot be started: environment variable BIG is 200 KiB, more than the 128 KiB the OS allows for one argument or variable (MAX_ARG_STRLEN); pass large data in a file",
    many: expect.stringMatching(
      /^failed: agent 'many' cannot be started: the arguments and environment take 24\d\d(\.\d)? KiB together, more than the 2048 KiB the OS allows \(ARG_MAX, E2BIG\)/,
    ) as string,
    w: `failed: agent 'w' cannot be started: its workdir ${join(dir, 'no-such-folder')} does not exist on this machine (deployment.workdir, relative to the job file's folder)`,
    c: expect.stringMatching(/^failed: agent 'c' cannot be started: command "a2a-no-such-command" not found \(looked in PATH/) as string,
  });
  // No secret value reached the status.
  expect(JSON.stringify(status)).not.toMatch(/abc|xxxx|yyyy/);

  // The history: every deployAgent ran exactly once, on attempt 1.
  const connection = await Connection.connect({ address: stack.address });
  try {
    const history = await new Client({ connection }).workflow.getHandle(`a2a-job-${JOB}`).fetchHistory();
    const types = new Map<string, string>();
    const attempts: Record<string, number[]> = {};
    for (const e of history.events ?? []) {
      if (e.activityTaskScheduledEventAttributes)
        types.set(String(e.eventId), e.activityTaskScheduledEventAttributes.activityType?.name ?? '');
      const started = e.activityTaskStartedEventAttributes;
      if (started) {
        const type = types.get(String(started.scheduledEventId)) ?? '?';
        (attempts[type] ??= []).push(started.attempt ?? 0);
      }
    }
    expect(attempts.deployAgent).toEqual([1, 1, 1, 1, 1]);
  } finally {
    await connection.close();
  }
  // Five retries with backoff took over 6 s per agent; one attempt each takes a moment.
  console.log(`deterministic failures: start answered in ${seconds.toFixed(1)} s`);
});
