// What the deploy workflow does with its messages, on Temporal's time-skipping test server with
// fake agents: pause and stop in the middle of a deploy, signals that do what the updates do (and
// a refused one kept in the status), the stop update without a payload as the Web UI sends it,
// the restart update, a redeploy that fails and rolls back, and A2APaused and the status memo.
import { WorkflowUpdateFailedError } from '@temporalio/client';
import {
  SA_PAUSED,
  pauseSignal,
  pauseUpdate,
  planQuery,
  redeployUpdate,
  restartUpdate,
  resumeSignal,
  resumeUpdate,
  statusQuery,
  stopSignal,
  stopUpdate,
  type StatusMemo,
} from '../../src/workflows/api';
import { startWorkflowTestEnv, type WorkflowTestEnv } from './support/env';
import { makePlan } from './support/fake-job';
import { agentState, startJob, waitStatus } from './support/jobs';

jest.setTimeout(30_000);
let t: WorkflowTestEnv;
beforeAll(async () => {
  t = await startWorkflowTestEnv('wf-messages');
});
afterAll(async () => {
  await t?.close();
});

const chain = [{ id: 'back' }, { id: 'front', calls: ['back'] }];
const refusal = (err: unknown) => ((err as WorkflowUpdateFailedError).cause as Error)?.message;

test('pause during a deploy lets the starting agent finish and starts nothing new until resumed; A2APaused and the memo follow the pause', async () => {
  const job = 'pause-deploy';
  t.fake.hold(job, 'back');
  const h = await startJob(t, job, chain);
  await waitStatus(h, 'back starting', (s) => agentState(s, 'back') === 'starting');
  expect(await h.executeUpdate(pauseUpdate)).toBe('deploying');
  t.fake.release(job, 'back');
  await waitStatus(h, 'back healthy', (s) => agentState(s, 'back') === 'healthy');
  await new Promise((r) => setTimeout(r, 500));
  const paused = await h.query(statusQuery);
  expect(paused).toMatchObject({ phase: 'deploying', paused: true, agents: { front: { state: 'waiting' } } });
  expect(t.fake.of('deployAgent', job).map((c) => c.agent)).toEqual(['back']);
  const d = await h.describe();
  expect(d.typedSearchAttributes.get(SA_PAUSED)).toBe(true);
  // The memo is written when the pause takes effect, not on each agent step of a deploy (those
  // run concurrently; see MEMO_OUTSIDE_BULK in deploy-job.ts): it shows 'back' as it was then.
  expect(d.memo?.status).toMatchObject({ phase: 'deploying', paused: true, agents: { back: { state: 'starting' } } });
  expect(await h.executeUpdate(resumeUpdate)).toBe('deploying');
  await waitStatus(h, 'running', (s) => s.phase === 'running');
  const memo = (await h.describe()).memo?.status as StatusMemo;
  expect(memo).toMatchObject({ phase: 'running', paused: false, agents: { back: { state: 'healthy' }, front: { state: 'healthy' } } });
  expect((await h.describe()).typedSearchAttributes.get(SA_PAUSED)).toBe(false);
  await h.executeUpdate(stopUpdate, { args: [{ force: true }] });
  await h.result();
});

test('the stop update without a payload (as the Web UI sends it) during a deploy stops gracefully; nothing new starts', async () => {
  const job = 'stop-deploy';
  t.fake.hold(job, 'back');
  const h = await startJob(t, job, chain);
  await waitStatus(h, 'back starting', (s) => agentState(s, 'back') === 'starting');
  expect(await h.executeUpdate(stopUpdate, { args: [undefined] })).toBe('deploying');
  t.fake.release(job, 'back');
  expect(await h.result()).toEqual({ job, phase: 'stopped' });
  expect(t.fake.of('deployAgent', job).map((c) => c.agent)).toEqual(['back']);
  expect(t.fake.of('stopAgent', job).map((c) => [c.agent, c.force])).toEqual([['back', false]]);
});

test('a small job is torn down by one stopAgents activity that stops the callers first, level by level', async () => {
  const job = 'one-stop';
  const h = await startJob(t, job, [{ id: 'c' }, { id: 'b', calls: ['c'] }, { id: 'a', calls: ['b'] }]);
  await waitStatus(h, 'running', (s) => s.phase === 'running');
  await h.executeUpdate(stopUpdate, { args: [{}] });
  expect(await h.result()).toEqual({ job, phase: 'stopped' });
  expect(t.fake.of('stopAgents', job).map((c) => [c.agent, c.levels])).toEqual([['a,b,c', [0, 1, 2]]]);
});

test('signals pause, resume and stop do what the updates do; one that makes no sense is kept in the status with the reason', async () => {
  const job = 'signals';
  const h = await startJob(t, job, chain);
  await waitStatus(h, 'running', (s) => s.phase === 'running');
  await h.signal(resumeSignal);
  const refused = await waitStatus(h, 'refused resume', (s) => s.refused !== undefined);
  expect(refused.refused).toEqual({ action: 'resume signal', reason: 'job signals is not paused', at: expect.any(String) });
  await h.signal(pauseSignal);
  await waitStatus(h, 'paused', (s) => s.paused);
  await h.signal(pauseSignal);
  await waitStatus(h, 'second pause refused', (s) => s.refused?.reason === 'job signals is already paused');
  await h.signal(resumeSignal);
  await waitStatus(h, 'resumed', (s) => !s.paused);
  await h.signal(stopSignal, { force: true });
  expect(await h.result()).toEqual({ job, phase: 'stopped' });
  expect(t.fake.of('stopAgent', job).map((c) => [c.agent, c.force])).toEqual([
    ['front', true],
    ['back', true],
  ]);
});

test('the restart update restarts the named agents (none: all) callers down first, callees up first; unknown agents are refused', async () => {
  const job = 'restart';
  const h = await startJob(t, job, [...chain, { id: 'side' }]);
  await waitStatus(h, 'running', (s) => s.phase === 'running');
  const unknown = await h.executeUpdate(restartUpdate, { args: [{ agents: ['nope'] }] }).catch(refusal);
  expect(unknown).toBe('job restart has no agent nope (its agents: back, front, side)');
  const before = t.fake.calls.length;
  expect(await h.executeUpdate(restartUpdate, { args: [{ agents: ['front', 'back'] }] })).toEqual({
    restarted: ['back', 'front'],
    failed: [],
  });
  // Each agent's stop, in order (stopAgents records its batch besides).
  const calls = t.fake.calls.slice(before).filter((c) => c.activity !== 'watchAgents' && c.activity !== 'stopAgents');
  expect(calls.map((c) => `${c.activity} ${c.agent}`)).toEqual([
    'stopAgent front',
    'stopAgent back',
    'deployAgent back',
    'deployAgent front',
  ]);
  const all = await h.executeUpdate(restartUpdate, { args: [undefined] });
  expect(all).toEqual({ restarted: ['back', 'side', 'front'], failed: [] });
  const s = await h.query(statusQuery);
  expect([s.phase, s.agents.back.restarts, s.agents.front.restarts, s.agents.side.restarts]).toEqual(['running', 2, 2, 1]);
  await h.executeUpdate(pauseUpdate);
  expect(await h.executeUpdate(restartUpdate, { args: [undefined] }).catch(refusal)).toBe('job restart is paused; resume it first');
  await h.executeUpdate(stopUpdate, { args: [{}] });
  await h.result();
});

test('a redeploy whose changed agent fails rolls back to the previous spec', async () => {
  const job = 'rollback';
  const h = await startJob(t, job, chain);
  await waitStatus(h, 'running', (s) => s.phase === 'running');
  const next = makePlan(job, [{ id: 'back', version: 2 }, { id: 'front', calls: ['back'] }, { id: 'extra' }], t.taskQueue);
  t.fake.failing.add('back-v2');
  const result = await h.executeUpdate(redeployUpdate, { args: [next] });
  expect(result).toMatchObject({ applied: false, rolledBack: true, added: ['extra'], changed: ['back'], removed: [] });
  expect(result.error).toContain("agent 'back' exited during start");
  const s = await h.query(statusQuery);
  expect(s.phase).toBe('running');
  expect(Object.keys(s.agents).sort()).toEqual(['back', 'front']);
  expect(s.agents.back.state).toBe('healthy');
  expect((await h.query(planQuery)).agents.back.specHash).toBe('back-v1');
  const deploys = t.fake.of('deployAgent', job).map((c) => c.specHash);
  // The deploy, the new specs (in parallel: both call nobody), then the old back restored.
  expect([...deploys.slice(0, 2), ...deploys.slice(2, 4).sort(), ...deploys.slice(4)]).toEqual([
    'back-v1',
    'front-v1',
    'back-v2',
    'extra-v1',
    'back-v1',
  ]);
  await h.executeUpdate(stopUpdate, { args: [{ force: true }] });
  await h.result();
});
