// The deploy workflow's restart policy on Temporal's time-skipping test server: backoff that
// doubles up to its cap, the restart window, giving up (degraded), and continue-as-new carrying
// the status and the restart times. Minutes of workflow time pass in milliseconds.
import { stopSignal, stopUpdate } from '../../src/workflows/api';
import { startWorkflowTestEnv, type WorkflowTestEnv } from './support/env';
import { agentState, startJob, waitMemo, waitStatus, type JobHandle } from './support/jobs';

jest.setTimeout(30_000);
let t: WorkflowTestEnv;
beforeAll(async () => {
  t = await startWorkflowTestEnv('wf-restarts');
});
afterAll(async () => {
  await t?.close();
});

const MIN = 60_000;
const lastStop = (job: string, agent: string) =>
  t.fake
    .of('stopAgent', job)
    .filter((c) => c.agent === agent)
    .pop()!;

async function stopJob(handle: JobHandle) {
  await handle.executeUpdate(stopUpdate, { args: [{ force: true }] });
  expect(await handle.result()).toEqual({ job: expect.any(String), phase: 'stopped' });
}

test('a crashed agent restarts after a backoff that doubles up to max_backoff; past max_restarts in the window the job is degraded', async () => {
  const job = 'backoff';
  const h = await startJob(t, job, [{ id: 'a', restart: { maxRestarts: 3, windowMs: 60 * MIN, backoffMs: MIN, maxBackoffMs: 3 * MIN } }]);
  await waitStatus(h, 'running', (s) => s.phase === 'running');
  for (const [i, backoff] of [MIN, 2 * MIN, 3 * MIN].entries()) {
    t.fake.crash(job, 'a');
    const crashed = await waitStatus(h, 'a restarting', (s) => agentState(s, 'a') === 'restarting');
    expect(crashed.agents.a.lastError).toContain('a: crashing on purpose');
    expect(crashed.agents.a.lastErrorAt).toBe(crashed.agents.a.since);
    await t.env.sleep(backoff - 2_000);
    expect(t.fake.of('stopAgent', job)).toHaveLength(i); // still waiting out the backoff
    await t.env.sleep(3_000);
    const back = await waitStatus(h, 'a healthy again', (s) => agentState(s, 'a') === 'healthy' && s.agents.a.restarts === i + 1);
    expect(back.phase).toBe('running');
    // The reason for the restart stays, with when it happened (issue 10, defect 11), in the status and the memo.
    expect(back.agents.a.lastError).toContain('a: crashing on purpose');
    expect(back.agents.a.lastErrorAt).toBe(crashed.agents.a.lastErrorAt);
    expect(Date.parse(back.agents.a.since)).toBeGreaterThan(Date.parse(back.agents.a.lastErrorAt!));
    const { memo } = await waitMemo(h, 'memo of a healthy again', (m) => m.agents.a.state === 'healthy' && m.agents.a.restarts === i + 1);
    expect(memo.agents.a).toMatchObject({
      lastError: expect.stringContaining('a: crashing on purpose') as string,
      lastErrorAt: crashed.agents.a.lastErrorAt,
    });
    // The old process is stopped, then a new one started, once the backoff is over.
    const waited = lastStop(job, 'a').at - Date.parse(crashed.agents.a.since);
    // The stop is told the crashed process the workflow knows (issue 10, defect 4).
    expect(lastStop(job, 'a').known).toEqual({ pid: crashed.agents.a.pid, procStart: `start-of-${crashed.agents.a.pid}` });
    expect(waited).toBeGreaterThanOrEqual(backoff);
    expect(waited).toBeLessThan(backoff + 3_000);
  }
  t.fake.crash(job, 'a');
  const given = await waitStatus(h, 'a failed', (s) => agentState(s, 'a') === 'failed');
  expect(given.phase).toBe('degraded');
  expect(given.agents.a.restarts).toBe(3);
  expect(given.agents.a.lastError).toContain('gave up after 3 restarts within 3600s');
  expect(given.agents.a.lastError).toContain('a: crashing on purpose');
  expect(t.fake.of('deployAgent', job)).toHaveLength(4); // the deploy and three restarts, no more
  await stopJob(h);
  // An agent the workflow gave up on has no process it knows of: the stop is pointed at none.
  expect(lastStop(job, 'a').known).toBeUndefined();
});

test('restarts older than the window are forgotten; within it they count', async () => {
  const job = 'window';
  const policy = { maxRestarts: 1, backoffMs: 11 * MIN, maxBackoffMs: 11 * MIN };
  const h = await startJob(t, job, [
    { id: 'short', restart: { ...policy, windowMs: 10 * MIN } },
    { id: 'long', restart: { ...policy, windowMs: 30 * MIN } },
  ]);
  await waitStatus(h, 'running', (s) => s.phase === 'running');
  t.fake.crash(job, 'short');
  t.fake.crash(job, 'long');
  await waitStatus(h, 'both restarting', (s) => agentState(s, 'short') === 'restarting' && agentState(s, 'long') === 'restarting');
  await t.env.sleep(11 * MIN + 1_000);
  await waitStatus(h, 'both back', (s) => agentState(s, 'short') === 'healthy' && agentState(s, 'long') === 'healthy');
  // 11 minutes after the first restart: inside a 30-minute window, outside a 10-minute one.
  t.fake.crash(job, 'long');
  const s = await waitStatus(h, 'long failed', (x) => agentState(x, 'long') === 'failed');
  t.fake.crash(job, 'short');
  await waitStatus(h, 'short restarting', (x) => agentState(x, 'short') === 'restarting' && x.agents.short.restarts === 2);
  expect(s.phase).toBe('degraded');
  expect(s.agents.long.lastError).toContain('gave up after 1 restarts within 1800s');
  await t.env.sleep(11 * MIN + 1_000);
  const after = await waitStatus(h, 'short back', (x) => agentState(x, 'short') === 'healthy');
  expect([after.agents.short.restarts, after.agents.long.restarts]).toEqual([2, 1]);
  await stopJob(h);
});

test('continue-as-new carries the status and the restart times into the next run; every activity keeps the job priority', async () => {
  const job = 'carry';
  const restart = { maxRestarts: 2, windowMs: 60 * MIN, backoffMs: 1_000, maxBackoffMs: 1_000 };
  const h = await startJob(
    t,
    job,
    [
      { id: 'a', restart },
      { id: 'b', calls: ['a'] },
    ],
    { continueAsNewAfterEvents: 50, priority: 'critical' },
  );
  await waitMemo(h, 'running', (m) => m.phase === 'running');
  for (const n of [1, 2]) {
    t.fake.crash(job, 'a');
    await waitMemo(h, `restart ${n}`, (m) => m.agents.a.state === 'healthy' && m.agents.a.restarts === n);
  }
  // The history passed 50 events: the job goes on in a new run, with the same status.
  const { memo, runId } = await waitMemo(h, 'a new run', (_m, run) => run !== h.firstExecutionRunId);
  expect(memo).toMatchObject({ phase: 'running', agents: { a: { state: 'healthy', restarts: 2 }, b: { state: 'healthy' } } });
  expect(t.fake.of('deployAgent', job).map((c) => c.agent)).toEqual(['a', 'b', 'a', 'a']); // nothing redeployed
  // The two restarts within the hour were carried over: a third crash gives up.
  t.fake.crash(job, 'a');
  const given = await waitMemo(h, 'a failed', (m) => m.agents.a.state === 'failed');
  // In a continued run (that one, or a later one if its history passed 50 events too).
  expect(given.runId).not.toBe(h.firstExecutionRunId);
  expect(runId).not.toBe(h.firstExecutionRunId);
  expect(given.memo.phase).toBe('degraded');
  expect(given.memo.agents.a.lastError).toContain('gave up after 2 restarts within 3600s');
  await h.signal(stopSignal, { force: true });
  expect(await h.result()).toEqual({ job, phase: 'stopped' });
  // priority: critical is priorityKey 1 on the deploys, restarts, watches and stops of both runs.
  const calls = t.fake.calls.filter((c) => c.job === job);
  expect(new Set(calls.map((c) => c.activity))).toEqual(new Set(['deployAgent', 'watchAgents', 'stopAgent', 'stopAgents']));
  expect(calls.filter((c) => c.priority !== 1)).toEqual([]);
});
